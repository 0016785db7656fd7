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

// Command release adds to `make release`'s bundle what lets a user trust it,
// without a registry, a container engine or a transparency log:
//
//	release sbom -dir dist -version V -date D            CycloneDX SBOMs of the manager (per platform)
//	                                                     and the plugin (per archive)
//	release provenance -dir dist -version V -commit C -image R FILE...
//	                                                     the SLSA v1 provenance of the image and FILEs
//	release sign -dir dist -version V -image R -key K    signs the image index and attaches the SBOMs and
//	                                                     provenance as attestations (in dist/image); signs the provenance
//	release sign-files -dir dist -key K                  signs sha256sums.txt and every file it lists (FILE.sig)
//	release verify -dir dist -key cosign.pub             checks all of it; fails on anything unsigned or changed
//	release generate-key -out cosign                     a cosign key pair (cosign.key, cosign.pub)
//
// The formats are cosign's (v2), so a user checks a release with stock cosign
// too (README: "Verify a release"). A private key's password is read from
// COSIGN_PASSWORD, as cosign reads it, and never printed.
package main

import (
	"bufio"
	"bytes"
	"crypto/ecdsa"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// pluginBin is the kubectl plugin's executable (kubectl-krosai.exe on windows).
const pluginBin = "kubectl-krosai"

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: release sbom|provenance|sign|sign-files|verify|generate-key [flags]")
		os.Exit(2)
	}
	cmds := map[string]func([]string) error{
		"sbom": sbomCmd, "provenance": provenanceCmd, "sign": signCmd,
		"sign-files": signFilesCmd, "verify": verifyCmd, "generate-key": generateKeyCmd,
	}
	cmd, ok := cmds[os.Args[1]]
	if !ok {
		fmt.Fprintf(os.Stderr, "release: unknown command %q\n", os.Args[1])
		os.Exit(2)
	}
	if err := cmd(os.Args[2:]); err != nil {
		fmt.Fprintln(os.Stderr, "release:", err)
		os.Exit(1)
	}
}

// Names of the files this command writes in the bundle.
func managerSBOMName(version, platform string) string {
	return "kros-operator-" + version + "-" + strings.ReplaceAll(platform, "/", "-") + ".cdx.json"
}

func pluginSBOMName(archive string) string {
	return strings.TrimSuffix(filepath.Base(archive), ".tar.gz") + ".cdx.json"
}

func provenanceName(version string) string { return "kros-operator-" + version + ".provenance.json" }
func envelopeName(version string) string   { return "kros-operator-" + version + ".intoto.jsonl" }

const sumsName = "sha256sums.txt"

func sbomCmd(args []string) error {
	fs := flag.NewFlagSet("sbom", flag.ExitOnError)
	dir := fs.String("dir", "dist", "the release bundle: image/ and the plugin's archives")
	version := fs.String("version", "", "the release's version")
	date := fs.String("date", "", "the commit's date (RFC 3339), the documents' timestamp")
	_ = fs.Parse(args)
	when, err := parseDate(*date)
	if err != nil {
		return err
	}
	return WriteSBOMs(*dir, *version, when)
}

// WriteSBOMs writes the SBOM of each manager binary in dir/image and of each
// plugin archive of version in dir.
func WriteSBOMs(dir, version string, date time.Time) error {
	if version == "" {
		return errors.New("-version is required")
	}
	bins, err := ImageBinaries(filepath.Join(dir, "image"))
	if err != nil {
		return err
	}
	docs := map[string][]byte{}
	for platform, bin := range bins {
		if docs[managerSBOMName(version, platform)], err = SBOM(bin, "kros-operator", version, date); err != nil {
			return fmt.Errorf("manager %s: %w", platform, err)
		}
	}
	archives, err := filepath.Glob(filepath.Join(dir, pluginBin+"_"+version+"_*.tar.gz"))
	if err != nil {
		return err
	}
	for _, a := range archives {
		bin, err := ArchiveBinary(a)
		if err != nil {
			return err
		}
		if docs[pluginSBOMName(a)], err = SBOM(bin, pluginBin, version, date); err != nil {
			return fmt.Errorf("%s: %w", a, err)
		}
	}
	for _, name := range slices.Sorted(maps.Keys(docs)) {
		if err := os.WriteFile(filepath.Join(dir, name), docs[name], 0o644); err != nil {
			return err
		}
		fmt.Println("wrote", filepath.Join(dir, name))
	}
	return nil
}

func provenanceCmd(args []string) error {
	var o ProvenanceOptions
	fs := flag.NewFlagSet("provenance", flag.ExitOnError)
	dir := fs.String("dir", "dist", "the release bundle")
	fs.StringVar(&o.Version, "version", "", "the release's version")
	fs.StringVar(&o.Commit, "commit", "", "the source commit")
	fs.StringVar(&o.Source, "source", "https://github.com/krosai/kros-operator", "the source repository")
	fs.StringVar(&o.ImageRepo, "image", "ghcr.io/krosai/kros-operator", "the image's repository")
	fs.StringVar(&o.BuilderID, "builder-id", "https://github.com/krosai/kros-operator/blob/main/Makefile#release",
		"who built it: the CI run's URL there")
	fs.StringVar(&o.InvocationID, "invocation-id", "", "this build's id in the builder (CI run id)")
	_ = fs.Parse(args)
	if o.Version == "" || o.Commit == "" {
		return errors.New("-version and -commit are required")
	}
	o.ImageDir, o.Files = filepath.Join(*dir, "image"), fs.Args()
	st, err := Provenance(o)
	if err != nil {
		return err
	}
	data, err := jsonIndent(st)
	if err != nil {
		return err
	}
	path := filepath.Join(*dir, provenanceName(o.Version))
	if err := os.WriteFile(path, data, 0o644); err != nil {
		return err
	}
	fmt.Println("wrote", path)
	return nil
}

// privateKey loads -key with COSIGN_PASSWORD.
func privateKey(path string) (*ecdsa.PrivateKey, error) {
	if path == "" {
		return nil, errors.New("-key is required")
	}
	return LoadPrivateKey(path, []byte(os.Getenv("COSIGN_PASSWORD")))
}

func signCmd(args []string) error {
	fs := flag.NewFlagSet("sign", flag.ExitOnError)
	dir := fs.String("dir", "dist", "the release bundle")
	version := fs.String("version", "", "the release's version")
	repo := fs.String("image", "ghcr.io/krosai/kros-operator", "the image's repository, the signature's docker-reference")
	keyPath := fs.String("key", "", "the cosign private key (password in COSIGN_PASSWORD)")
	_ = fs.Parse(args)
	key, err := privateKey(*keyPath)
	if err != nil {
		return err
	}
	return SignRelease(*dir, *version, *repo, key)
}

// SignRelease signs the image and attaches its attestations, the manager's
// SBOMs and the provenance (already written), and writes the provenance's
// DSSE envelope.
func SignRelease(dir, version, repo string, key *ecdsa.PrivateKey) error {
	imageDir := filepath.Join(dir, "image")
	idx, err := imageIndex(imageDir)
	if err != nil {
		return err
	}
	digest, err := idx.Digest()
	if err != nil {
		return err
	}
	m, err := idx.IndexManifest()
	if err != nil {
		return err
	}
	var statements []Statement
	for _, d := range m.Manifests {
		platform := d.Platform.OS + "/" + d.Platform.Architecture
		doc, err := os.ReadFile(filepath.Join(dir, managerSBOMName(version, platform)))
		if err != nil {
			return fmt.Errorf("the SBOM of %s (run release sbom first): %w", platform, err)
		}
		statements = append(statements, Statement{
			Type: statementType, PredicateType: cycloneDXType, Predicate: doc,
			Subject: []Subject{
				subject(repo, digest.Hex),
				subject(repo, d.Digest.Hex),
			},
		})
	}
	data, err := os.ReadFile(filepath.Join(dir, provenanceName(version)))
	if err != nil {
		return fmt.Errorf("the provenance (run release provenance first): %w", err)
	}
	var prov Statement
	if err := json.Unmarshal(data, &prov); err != nil {
		return fmt.Errorf("%s: %w", provenanceName(version), err)
	}
	statements = append(statements, prov)
	if err := SignImage(imageDir, repo, key, statements); err != nil {
		return err
	}
	fmt.Printf("signed %s@%s and attached %d attestations\n", repo, digest, len(statements))
	env, err := SignStatement(key, prov)
	if err != nil {
		return err
	}
	path := filepath.Join(dir, envelopeName(version))
	if err := os.WriteFile(path, append(env, '\n'), 0o644); err != nil {
		return err
	}
	fmt.Println("wrote", path)
	return nil
}

func signFilesCmd(args []string) error {
	fs := flag.NewFlagSet("sign-files", flag.ExitOnError)
	dir := fs.String("dir", "dist", "the release bundle, with sha256sums.txt")
	keyPath := fs.String("key", "", "the cosign private key (password in COSIGN_PASSWORD)")
	_ = fs.Parse(args)
	key, err := privateKey(*keyPath)
	if err != nil {
		return err
	}
	return SignFiles(*dir, key)
}

// SignFiles writes FILE.sig, as `cosign sign-blob --output-signature` does,
// for sha256sums.txt and every file it lists.
func SignFiles(dir string, key *ecdsa.PrivateKey) error {
	sums, err := readSums(dir)
	if err != nil {
		return err
	}
	for _, name := range append(slices.Sorted(maps.Keys(sums)), sumsName) {
		data, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			return err
		}
		sig, err := Sign(key, data)
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dir, name+".sig"), []byte(sig), 0o644); err != nil {
			return err
		}
	}
	fmt.Printf("signed %s and the %d files it lists\n", sumsName, len(sums))
	return nil
}

// readSums is sha256sums.txt: sha256 (hex) by file name.
func readSums(dir string) (map[string]string, error) {
	data, err := os.ReadFile(filepath.Join(dir, sumsName))
	if err != nil {
		return nil, err
	}
	sums := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		sum, name, ok := strings.Cut(sc.Text(), "  ")
		if !ok || len(sum) != 64 || name == "" || strings.ContainsAny(name, "/\\") {
			return nil, fmt.Errorf("%s: bad line %q", sumsName, sc.Text())
		}
		sums[name] = sum
	}
	return sums, sc.Err()
}

func verifyCmd(args []string) error {
	fs := flag.NewFlagSet("verify", flag.ExitOnError)
	dir := fs.String("dir", "dist", "the release bundle")
	keyPath := fs.String("key", "cosign.pub", "the release's cosign public key")
	_ = fs.Parse(args)
	pub, err := LoadPublicKey(*keyPath)
	if err != nil {
		return err
	}
	report, err := VerifyRelease(*dir, pub)
	for _, line := range report {
		fmt.Println(line)
	}
	return err
}

// VerifyRelease checks a signed bundle: sha256sums.txt is signed, every file
// it lists has its sha256 and a valid signature, the image is intact,
// signed and carries a signed SBOM for each platform and the provenance,
// and the provenance is signed and names the image and every file it lists
// with the digest found in dir. It returns what it checked.
func VerifyRelease(dir string, pub *ecdsa.PublicKey) ([]string, error) {
	var report []string
	if err := verifyFile(dir, sumsName, pub); err != nil {
		return report, err
	}
	sums, err := readSums(dir)
	if err != nil {
		return report, err
	}
	for _, name := range slices.Sorted(maps.Keys(sums)) {
		data, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			return report, err
		}
		if got := sha256Hex(data); got != sums[name] {
			return report, fmt.Errorf("%s: sha256 %s, but %s says %s", name, got, sumsName, sums[name])
		}
		if err := verifyFile(dir, name, pub); err != nil {
			return report, err
		}
	}
	report = append(report, fmt.Sprintf("ok: %s and the %d files it lists: sha256 and signatures", sumsName, len(sums)))

	digest, statements, err := VerifyImage(filepath.Join(dir, "image"), pub)
	if err != nil {
		return report, err
	}
	var sboms, provs int
	for _, st := range statements {
		switch st.PredicateType {
		case cycloneDXType:
			sboms++
		case slsaProvenance:
			provs++
		}
	}
	idx, err := imageIndex(filepath.Join(dir, "image"))
	if err != nil {
		return report, err
	}
	m, err := idx.IndexManifest()
	if err != nil {
		return report, err
	}
	if sboms != len(m.Manifests) || provs != 1 {
		return report, fmt.Errorf("image %s: %d SBOM and %d provenance attestations, want %d and 1",
			digest, sboms, provs, len(m.Manifests))
	}
	report = append(report, fmt.Sprintf("ok: image %s: blobs intact, signed, %d SBOM attestations and the provenance",
		digest, sboms))

	envelopes, err := filepath.Glob(filepath.Join(dir, "*.intoto.jsonl"))
	if err != nil || len(envelopes) != 1 {
		return report, fmt.Errorf("want one *.intoto.jsonl in %s, found %d", dir, len(envelopes))
	}
	data, err := os.ReadFile(envelopes[0])
	if err != nil {
		return report, err
	}
	prov, err := OpenEnvelope(pub, bytes.TrimSpace(data))
	if err != nil {
		return report, fmt.Errorf("%s: %w", filepath.Base(envelopes[0]), err)
	}
	if prov.PredicateType != slsaProvenance || !prov.HasSubject(digest.Hex) {
		return report, fmt.Errorf("%s: not the SLSA provenance of image %s", filepath.Base(envelopes[0]), digest)
	}
	for _, s := range prov.Subject {
		if s.Name == "" || strings.ContainsAny(s.Name, "/\\") {
			continue // the image, checked above
		}
		if sums[s.Name] != s.SHA256() {
			return report, fmt.Errorf("%s: the provenance names %s with sha256 %s, the bundle has %q",
				filepath.Base(envelopes[0]), s.Name, s.SHA256(), sums[s.Name])
		}
	}
	report = append(report, fmt.Sprintf("ok: %s: signed SLSA provenance of the image and %d files",
		filepath.Base(envelopes[0]), len(prov.Subject)-1-len(m.Manifests)))
	return report, nil
}

// verifyFile checks dir/name against its signature dir/name.sig.
func verifyFile(dir, name string, pub *ecdsa.PublicKey) error {
	data, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		return err
	}
	sig, err := os.ReadFile(filepath.Join(dir, name+".sig"))
	if err != nil {
		return fmt.Errorf("%s: unsigned: %w", name, err)
	}
	if err := Verify(pub, data, strings.TrimSpace(string(sig))); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	return nil
}

func sha256Hex(data []byte) string {
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

func generateKeyCmd(args []string) error {
	fs := flag.NewFlagSet("generate-key", flag.ExitOnError)
	out := fs.String("out", "cosign", "writes OUT.key (encrypted with COSIGN_PASSWORD) and OUT.pub")
	_ = fs.Parse(args)
	if err := GenerateKeyPair(*out, []byte(os.Getenv("COSIGN_PASSWORD"))); err != nil {
		return err
	}
	fmt.Printf("wrote %s.key and %s.pub\n", *out, *out)
	return nil
}

func parseDate(s string) (time.Time, error) {
	if s == "" {
		return time.Unix(0, 0).UTC(), nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("-date: %w", err)
	}
	return t.UTC(), nil
}

func jsonIndent(v any) ([]byte, error) {
	data, err := json.MarshalIndent(v, "", "  ")
	return append(data, '\n'), err
}
