package store

import (
	"os"
	"unsafe"

	"golang.org/x/sys/unix"
)

// pageCacheMB returns how much of the file at path is in the kernel's page
// cache, in MB: mapped into no process, shared and reclaimable, but
// memory the workload keeps warm. 0 where it cannot tell.
func pageCacheMB(path string) float64 {
	fh, err := os.Open(path)
	if err != nil {
		return 0
	}
	defer fh.Close()
	st, err := fh.Stat()
	if err != nil || st.Size() == 0 {
		return 0
	}
	// Mapping the file reads none of it; mincore reports which of its
	// pages are cached.
	data, err := unix.Mmap(int(fh.Fd()), 0, int(st.Size()), unix.PROT_READ, unix.MAP_SHARED)
	if err != nil {
		return 0
	}
	defer unix.Munmap(data)
	pg := os.Getpagesize()
	vec := make([]byte, (len(data)+pg-1)/pg)
	_, _, errno := unix.Syscall(unix.SYS_MINCORE, uintptr(unsafe.Pointer(&data[0])), uintptr(len(data)), uintptr(unsafe.Pointer(&vec[0])))
	if errno != 0 {
		return 0
	}
	cached := 0
	for _, v := range vec {
		cached += int(v & 1)
	}
	return float64(cached*pg) / (1 << 20)
}

// trimsOf returns how many times s unmapped its file.
func trimsOf(s *Store) int64 { return s.mapped.trims.Load() }
