// Package loopback tells whether a host names this machine. The config
// check that allows plain http only to the simulated site and the simulated
// site's refusal to listen elsewhere share it.
package loopback

import "net"

// Host reports whether host (a name or an IP, without a port) is
// "localhost" or an address in 127.0.0.0/8 or ::1.
func Host(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
