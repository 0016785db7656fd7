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
	"cmp"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

// cpuReading is the CPU time, in seconds, the machine and each process of
// the benchmark had used at one moment: together they show what bounds a
// phase when the operator itself is idle.
type cpuReading struct {
	at        time.Time
	machine   float64 // all cores, busy (/proc/stat)
	processes map[string]float64
}

// cpuUse is the difference of two readings, in cores: CPU-seconds per second.
type cpuUse struct {
	machine   float64
	processes map[string]float64
}

func (u cpuUse) String() string {
	names := slices.SortedFunc(maps.Keys(u.processes), func(a, b string) int {
		return cmp.Compare(u.processes[b], u.processes[a])
	})
	parts := make([]string, 0, len(names))
	for _, name := range names {
		parts = append(parts, fmt.Sprintf("%s %.2f", name, u.processes[name]))
	}
	return fmt.Sprintf("CPU in cores: machine %.2f of %d busy; %s", u.machine, numCPU(), strings.Join(parts, ", "))
}

func (b *bench) readCPU() cpuReading {
	r := cpuReading{at: time.Now(), machine: machineBusySeconds(), processes: map[string]float64{}}
	pids := map[string]int{"manager": b.manager.Cmd.Process.Pid, "simulator": b.sim.Cmd.Process.Pid, "bench": os.Getpid()}
	for _, name := range []string{"kube-apiserver", "etcd", "kube-controller-manager"} {
		if pid := pidOf(filepath.Join(b.cp.Assets, name)); pid > 0 {
			pids[name] = pid
		}
	}
	for name, pid := range pids {
		r.processes[name] = processCPUSeconds(pid)
	}
	return r
}

func (r cpuReading) since(before cpuReading) cpuUse {
	seconds := r.at.Sub(before.at).Seconds()
	u := cpuUse{machine: (r.machine - before.machine) / seconds, processes: map[string]float64{}}
	for name, v := range r.processes {
		if w, ok := before.processes[name]; ok && v >= w {
			u.processes[name] = (v - w) / seconds
		}
	}
	return u
}

// machineBusySeconds reads the CPU time all cores spent not idle.
func machineBusySeconds() float64 {
	data, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0
	}
	line, _, _ := strings.Cut(string(data), "\n")
	fields := strings.Fields(line)[1:] // user nice system idle iowait irq softirq steal ...
	busy := 0.0
	for i, f := range fields {
		v, _ := strconv.ParseFloat(f, 64)
		if i != 3 && i != 4 { // idle, iowait
			busy += v
		}
	}
	return busy / 100 // USER_HZ
}

// processCPUSeconds reads a process's user+system CPU time.
func processCPUSeconds(pid int) float64 {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return -1
	}
	// Fields after the command name, which is in parentheses.
	fields := strings.Fields(string(data)[strings.LastIndexByte(string(data), ')')+2:])
	utime, _ := strconv.ParseFloat(fields[11], 64)
	stime, _ := strconv.ParseFloat(fields[12], 64)
	return (utime + stime) / 100 // USER_HZ
}

// pidOf finds the process running the executable at path.
func pidOf(path string) int {
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if exe, err := os.Readlink(filepath.Join("/proc", e.Name(), "exe")); err == nil && exe == path {
			return pid
		}
	}
	return 0
}
