//go:build !linux

package mariadbd

import "syscall"

func sysProcAttr() *syscall.SysProcAttr { return nil }
