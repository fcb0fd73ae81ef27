//go:build !linux

package shm

import "os"

func create(int) ([]byte, *os.File, error) { return nil, nil, ErrUnsupported }

func unmap([]byte) {}
