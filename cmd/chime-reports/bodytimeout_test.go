package main

import (
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/chime-reports/chime-reports/cmd/chime-reports/server"
	"github.com/chime-reports/chime-reports/models/dbtest"
)

// TestSlowBodyIsCut: a client that sends a request body a byte at a time
// is cut once the body timeout has passed, before it has sent the body:
// it cannot hold a connection and a handler for as long as it likes.
func TestSlowBodyIsCut(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, b dbtest.Backend) {
		e := newEnvWith(t, b, func(d *server.Deps) { d.BodyTimeout = 300 * time.Millisecond })
		conn, err := net.Dial("tcp", e.srv.Listener.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		const size = 200
		if _, err := io.WriteString(conn, "POST /Chime/Admin/signin HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n"+
			"Content-Length: 200\r\n\r\n"); err != nil {
			t.Fatal(err)
		}
		ended := make(chan string, 1)
		go func() {
			b, _ := io.ReadAll(conn)
			ended <- string(b)
		}()
		sent := 0
		for ; sent < size; sent++ {
			select {
			case answer := <-ended:
				if !strings.Contains(answer, "HTTP/1.1 4") && answer != "" {
					t.Errorf("answer to a cut body: %.200s", answer)
				}
				return
			case <-time.After(50 * time.Millisecond):
			}
			if _, err := conn.Write([]byte("k")); err != nil {
				return // the server closed the connection
			}
		}
		t.Fatalf("the whole body (%d bytes, one every 50 ms) was taken: no body timeout", sent)
	})
}
