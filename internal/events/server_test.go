/*
Copyright 2026.

Licensed under the Apache License, Version 2.0 (the "License");
you may not use this file except in compliance with the License.
You may obtain a copy of the License at

    http://www.apache.org/licenses/LICENSE-2.0

Unless required by applicable law or agreed to in writing, software
distributed under the License is distributed on an "AS IS" BASIS,
WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
See the License for the specific language governing permissions and
limitations under the License.
*/

package events

import (
	"crypto/tls"
	"crypto/x509"
	"net"
	"net/http"
	"strings"
	"testing"

	"github.com/krosai/kros-operator/test/harness"
)

func TestServerSpeaksTLSAndCapsHeaders(t *testing.T) {
	dir := t.TempDir()
	caPEM, err := harness.WriteServingCert(dir)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(caPEM)
	d := &directory{answer: Woken{Resources: 1}}
	h := newTestHandler(t, d, &clock{epoch}, true)
	addrs := make(chan net.Addr, 1)
	srv := &Server{Addr: "127.0.0.1:0", CertDir: dir, Handler: h, listening: func(a net.Addr) { addrs <- a }}
	errs := make(chan error, 1)
	go func() { errs <- srv.Start(t.Context()) }()
	var base string
	select {
	case a := <-addrs:
		base = "https://" + a.String()
	case err := <-errs:
		t.Fatal(err)
	}
	c := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}}}

	resp, err := c.Get(base + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("healthz: %d", resp.StatusCode)
	}

	body := event("evt_tls", "endpoint.updated", "ep_1", epoch)
	req, _ := http.NewRequest(http.MethodPost, base+PathPrefix+"team/events", strings.NewReader(string(body)))
	req.Header.Set(SignatureHeader, Sign([]byte(secret), body))
	req.Header.Set("X-Padding", strings.Repeat("a", 2*MaxHeaderBytes))
	if resp, err = c.Do(req); err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
		t.Errorf("headers over the cap: %d", resp.StatusCode)
	}
	req.Header.Del("X-Padding")
	req.Body, _ = req.GetBody()
	if resp, err = c.Do(req); err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted || len(d.woken) != 1 {
		t.Errorf("a signed delivery over TLS: %d, woke %d", resp.StatusCode, len(d.woken))
	}

	if resp, err := http.Get(strings.Replace(base, "https", "http", 1) + "/healthz"); err == nil {
		_ = resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("plain HTTP on the TLS port: %d", resp.StatusCode)
		}
	}
}
