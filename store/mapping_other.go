//go:build !linux

package store

import "go.etcd.io/bbolt"

// mapping is Linux's; elsewhere the pages read stay mapped until the
// kernel reclaims them.
type mapping struct{}

func newMapping(limit int) *mapping { return nil }

func (m *mapping) settle(db *bbolt.DB) {}

func (m *mapping) close() error { return nil }
