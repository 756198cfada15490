package keys

import "time"

// SetPrincipalClock moves the clock of s's principal cache (tests).
func SetPrincipalClock(s *Service, now func() time.Time) { s.principals.now = now }
