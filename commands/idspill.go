package commands

import (
	"fmt"
	"io"
	"os"
)

// spillAt is how many bytes of ids an import keeps in memory before it moves them to a file: a put of a
// few records, as scripts make, never touches the disk, and a million ids (37 MB) never stay in memory.
const spillAt = 64 << 10

// idSpill keeps the ids of an import, one a line, until the import commits and they may be printed.
// Past spillAt they go to a file in dir, the datafile's directory: it is on the disk that takes the import
// anyway, whereas the system's temporary directory is often held in memory (tmpfs), which would only move
// the ids from this process's memory to the machine's.
type idSpill struct {
	dir  string
	buf  []byte
	f    *os.File
	name string // of f, while it is still in dir
}

func newIDSpill(dir string) *idSpill {
	return &idSpill{dir: dir, buf: make([]byte, 0, spillAt+256)}
}

// add keeps id after those before it.
func (s *idSpill) add(id string) error {
	s.buf = append(s.buf, id...)
	s.buf = append(s.buf, '\n')
	if len(s.buf) < spillAt {
		return nil
	}
	if s.f == nil {
		f, err := os.CreateTemp(s.dir, ".msupply-sync-ids-*")
		if err != nil {
			return fmt.Errorf("keep the ids of the records written: %w", err)
		}
		s.f, s.name = f, f.Name()
		// Removed while still open, where the system allows it (not on Windows): then nothing is left
		// behind whatever ends the process, a kill included.
		if os.Remove(s.name) == nil {
			s.name = ""
		}
	}
	if _, err := s.f.Write(s.buf); err != nil {
		return fmt.Errorf("keep the ids of the records written: %w", err)
	}
	s.buf = s.buf[:0]
	return nil
}

// writeTo writes every id kept, in the order they were added.
func (s *idSpill) writeTo(w io.Writer) error {
	if s.f != nil {
		if _, err := s.f.Seek(0, io.SeekStart); err != nil {
			return fmt.Errorf("read back the ids of the records written: %w", err)
		}
		// io.Copy rather than a loop of reads: from a file to standard output it is a copy within the
		// kernel (copy_file_range, sendfile or splice) where the system has one.
		if _, err := io.Copy(w, s.f); err != nil {
			return err
		}
	}
	_, err := w.Write(s.buf)
	return err
}

// close releases the file, if there is one, and removes it if it is still there.
func (s *idSpill) close() {
	if s.f == nil {
		return
	}
	s.f.Close()
	if s.name != "" {
		os.Remove(s.name)
	}
	s.f = nil
}
