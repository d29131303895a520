//go:build !linux

package store

// pageCacheMB is Linux's.
func pageCacheMB(path string) float64 { return 0 }

// trimsOf is Linux's.
func trimsOf(s *Store) int64 { return 0 }
