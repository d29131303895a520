package store

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"go.etcd.io/bbolt"

	"github.com/mailack/mailack/track"
)

// Backup writes a consistent copy of the whole database to w while the
// store stays in use, and returns the bytes written. Writers are not
// blocked, but a long backup holds pages the writers free until it ends.
func (s *Store) Backup(ctx context.Context, w io.Writer) (int64, error) {
	if s.etcd != nil {
		return s.etcdBackup(ctx, w)
	}
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	var n int64
	err := s.db.View(func(tx *bbolt.Tx) error {
		var err error
		n, err = tx.WriteTo(w)
		return err
	})
	if err != nil {
		return n, fmt.Errorf("backup %s: %w", s.path, err)
	}
	return n, nil
}

// BackupFile writes a consistent copy of the database to path, through a
// temporary file renamed into place, so path holds either the old file
// or the whole new copy. It refuses to overwrite the live database.
func (s *Store) BackupFile(ctx context.Context, path string) (n int64, err error) {
	if same, err := s.isLive(path); err != nil || same {
		if err == nil {
			err = fmt.Errorf("%s is the live database: %w", path, ErrInvalid)
		}
		return 0, fmt.Errorf("backup to %s: %w", path, err)
	}
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return 0, fmt.Errorf("backup to %s: %w", path, err)
	}
	defer func() {
		if err != nil {
			// The copy failed; the partial file is of no use and the
			// error returned says why.
			_ = f.Close()
			_ = os.Remove(f.Name())
		}
	}()
	if n, err = s.Backup(ctx, f); err != nil {
		return n, err
	}
	if err = f.Sync(); err == nil {
		err = f.Close()
	}
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err != nil {
		return n, fmt.Errorf("backup to %s: %w", path, err)
	}
	return n, syncDir(filepath.Dir(path))
}

func sameFile(a, b string) (bool, error) {
	fa, err := os.Stat(a)
	if err != nil {
		return false, err
	}
	fb, err := os.Stat(b)
	if errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return os.SameFile(fa, fb), nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("sync %s: %w", dir, err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync %s: %w", dir, err)
	}
	return nil
}

// ExportedMail is one mail in an export, with its evidence.
type ExportedMail struct {
	Mail     track.Mail       `json:"mail"`
	Evidence []track.Evidence `json:"evidence"`
}

// Export writes the mails with their evidence, and the orphans, as one
// JSON document read from one consistent snapshot:
//
//	{"schema": 2, "mails": [{"mail": {...}, "evidence": [...]}, ...], "orphans": [...]}
//
// Mails come in Message-ID order. Field names are those of package track.
func (s *Store) Export(ctx context.Context, w io.Writer) error {
	bw := bufio.NewWriter(w)
	err := s.view(ctx, func(tx kvTx) error {
		if _, err := fmt.Fprintf(bw, "{\"schema\":%d,\n\"mails\":[", currentSchema); err != nil {
			return err
		}
		if err := exportMails(ctx, tx, bw); err != nil {
			return err
		}
		if _, err := bw.WriteString("],\n\"orphans\":["); err != nil {
			return err
		}
		if err := exportOrphans(tx, bw); err != nil {
			return err
		}
		_, err := bw.WriteString("]}\n")
		return err
	})
	if err == nil {
		err = bw.Flush()
	}
	if err != nil {
		return fmt.Errorf("export: %w", err)
	}
	return nil
}

// exportMails writes the mails, each with the evidence that follows it in
// the mails bucket, in one pass.
func exportMails(ctx context.Context, tx kvTx, w *bufio.Writer) error {
	var cur *ExportedMail
	sep := "\n"
	flush := func() error {
		if cur == nil {
			return nil
		}
		err := writeJSON(w, sep, cur)
		sep = ",\n"
		return err
	}
	c := tx.Bucket(bucketMails).Cursor()
	for k, v := c.First(); k != nil; k, v = c.Next() {
		if err := ctx.Err(); err != nil {
			return err
		}
		if i := bytes.IndexByte(k, 0); i >= 0 {
			if cur == nil || cur.Mail.MessageID != string(k[:i]) {
				return fmt.Errorf("evidence %q follows no mail", k)
			}
			ev, err := decodeEvidence(string(k[:i]), string(k[i+1:]), v)
			if err != nil {
				return err
			}
			cur.Evidence = append(cur.Evidence, ev)
			continue
		}
		if err := flush(); err != nil {
			return err
		}
		m, err := decodeMail(string(k), v)
		if err != nil {
			return err
		}
		cur = &ExportedMail{Mail: m, Evidence: []track.Evidence{}}
	}
	return flush()
}

func exportOrphans(tx kvTx, w *bufio.Writer) error {
	sep := "\n"
	return tx.Bucket(bucketOrphans).ForEach(func(k, v []byte) error {
		o, err := decodeOrphan(string(k), v)
		if err != nil {
			return err
		}
		err = writeJSON(w, sep, o)
		sep = ",\n"
		return err
	})
}

func writeJSON(w *bufio.Writer, sep string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	if _, err := w.WriteString(sep); err != nil {
		return err
	}
	_, err = w.Write(b)
	return err
}

// isLive reports whether path is the live database file.
func (s *Store) isLive(path string) (bool, error) {
	if s.etcd != nil {
		return false, nil
	}
	return sameFile(s.path, path)
}
