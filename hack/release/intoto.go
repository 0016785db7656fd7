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

package main

import (
	"crypto/ecdsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
)

// In-toto and DSSE, as cosign attest and verify-attestation read them.
const (
	statementType  = "https://in-toto.io/Statement/v1"
	intotoPayload  = "application/vnd.in-toto+json"
	cycloneDXType  = "https://cyclonedx.org/bom"
	slsaProvenance = "https://slsa.dev/provenance/v1"
)

// Statement is an in-toto statement.
type Statement struct {
	Type          string          `json:"_type"`
	Subject       []Subject       `json:"subject"`
	PredicateType string          `json:"predicateType"`
	Predicate     json.RawMessage `json:"predicate"`
}

// Subject is one artifact a statement is about.
type Subject struct {
	Name   string            `json:"name"`
	Digest map[string]string `json:"digest"`
}

// Envelope is a DSSE envelope.
type Envelope struct {
	PayloadType string      `json:"payloadType"`
	Payload     string      `json:"payload"`
	Signatures  []Signature `json:"signatures"`
}

// Signature is one signature of an envelope.
type Signature struct {
	KeyID string `json:"keyid"`
	Sig   string `json:"sig"`
}

// pae is DSSE's pre-authentication encoding: what is signed.
func pae(payloadType string, payload []byte) []byte {
	return fmt.Appendf(nil, "DSSEv1 %d %s %d %s", len(payloadType), payloadType, len(payload), payload)
}

// SignStatement is st in a DSSE envelope signed with key.
func SignStatement(key *ecdsa.PrivateKey, st Statement) ([]byte, error) {
	payload, err := json.Marshal(st)
	if err != nil {
		return nil, err
	}
	sig, err := Sign(key, pae(intotoPayload, payload))
	if err != nil {
		return nil, err
	}
	return json.Marshal(Envelope{
		PayloadType: intotoPayload,
		Payload:     base64.StdEncoding.EncodeToString(payload),
		Signatures:  []Signature{{Sig: sig}},
	})
}

// OpenEnvelope is the statement of a DSSE envelope that pub signed.
func OpenEnvelope(pub *ecdsa.PublicKey, data []byte) (Statement, error) {
	var env Envelope
	if err := json.Unmarshal(data, &env); err != nil {
		return Statement{}, fmt.Errorf("not a DSSE envelope: %w", err)
	}
	if env.PayloadType != intotoPayload {
		return Statement{}, fmt.Errorf("payload type %q, want %s", env.PayloadType, intotoPayload)
	}
	payload, err := base64.StdEncoding.DecodeString(env.Payload)
	if err != nil {
		return Statement{}, fmt.Errorf("payload is not base64: %w", err)
	}
	verr := errors.New("no signature")
	for _, s := range env.Signatures {
		if verr = Verify(pub, pae(env.PayloadType, payload), s.Sig); verr == nil {
			break
		}
	}
	if verr != nil {
		return Statement{}, verr
	}
	var st Statement
	if err := json.Unmarshal(payload, &st); err != nil {
		return Statement{}, fmt.Errorf("payload is not an in-toto statement: %w", err)
	}
	if st.Type != statementType {
		return Statement{}, fmt.Errorf("statement type %q, want %s", st.Type, statementType)
	}
	return st, nil
}

// HasSubject says whether st names an artifact of this sha256 (hex).
func (st Statement) HasSubject(sha256 string) bool {
	for _, s := range st.Subject {
		if s.SHA256() == sha256 {
			return true
		}
	}
	return false
}

// subject names an artifact by its sha256 (hex).
func subject(name, sha256 string) Subject {
	return Subject{Name: name, Digest: map[string]string{"sha256": sha256}}
}

// SHA256 is the subject's sha256 (hex), if it has one.
func (s Subject) SHA256() string { return s.Digest["sha256"] }
