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

package krosaisim

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"
)

// stateVersion is the version of the state file's layout.
const stateVersion = 1

// state is the state file: the endpoints, as the admin dump shows them.
type state struct {
	Version       int                   `json:"version"`
	Organizations map[string][]Endpoint `json:"organizations"`
}

// saveDelay is how long a change waits for others before the state file is
// written, so that a burst of changes costs one write.
const saveDelay = 100 * time.Millisecond

// load reads the state file if there is one.
func (s *Simulator) load() error {
	if s.stateFile == "" {
		return nil
	}
	data, err := os.ReadFile(s.stateFile)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("read state file: %w", err)
	}
	var st state
	if err := json.Unmarshal(data, &st); err != nil {
		return fmt.Errorf("state file %s: %w", s.stateFile, err)
	}
	if st.Version != stateVersion {
		return fmt.Errorf("state file %s: version %d, want %d", s.stateFile, st.Version, stateVersion)
	}
	s.store.replace(st.Organizations)
	return nil
}

// Save writes the endpoints to the state file, if there is one: to a
// temporary file renamed over the old one, so that a crash leaves the old
// state or the new, never half of one. Changes are saved shortly after they
// happen anyway; Save is for callers that cannot wait.
func (s *Simulator) Save() error {
	if s.stateFile == "" {
		return nil
	}
	// Held across snapshot and rename, so a slow older save cannot land
	// after a newer one.
	s.saveMu.Lock()
	defer s.saveMu.Unlock()
	data, err := json.MarshalIndent(state{Version: stateVersion, Organizations: s.store.snapshot()}, "", "  ")
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(s.stateFile), filepath.Base(s.stateFile)+".tmp-*")
	if err != nil {
		return fmt.Errorf("save state: %w", err)
	}
	_, err = tmp.Write(append(data, '\n'))
	if err == nil {
		err = tmp.Sync()
	}
	if closeErr := tmp.Close(); err == nil {
		err = closeErr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), s.stateFile)
	}
	if err != nil {
		_ = os.Remove(tmp.Name())
		return fmt.Errorf("save state: %w", err)
	}
	return nil
}

// changed notes that the store changed, for the saver.
func (s *Simulator) changed() {
	select {
	case s.dirty <- struct{}{}:
	default: // a save is already due
	}
}

// saver writes the state file saveDelay after a change, until Close (which
// saves one last time itself).
func (s *Simulator) saver() {
	defer close(s.saverDone)
	for {
		select {
		case <-s.closed:
			return
		case <-s.dirty:
		}
		select {
		case <-s.closed:
			return
		case <-time.After(saveDelay):
		}
		if err := s.Save(); err != nil {
			s.log.Error("saving the state file failed", "err", err)
		}
	}
}
