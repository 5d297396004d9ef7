// Package storetest is the conformance suite every duban store backend must
// pass, run from each backend's own tests:
//
//	func TestConformance(t *testing.T) {
//		storetest.Run(t, open, storetest.WithTamper(tamper{}))
//	}
//
// open (an Opener) gives the suite a Backend for a prefix; the suite makes
// a fresh random prefix for every case, reopens prefixes to test durability
// and opens two prefixes on the same storage to test isolation. A backend's
// test supplies a Tamper that edits its raw storage, for the cases in which
// Verify must find altered and removed records, and, where there is a server
// to crash, WithOutage hooks to stop and restart it.
//
// The suite injects "now" into everything time-dependent (claims, leases,
// code expiry) and waits on nothing but what it can observe, so it does not
// sleep and does not depend on the speed of the machine.
//
// BenchRecord and BenchLatest are shared benchmark bodies, so that the
// backends' numbers compare like with like.
package storetest
