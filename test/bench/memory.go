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
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// memorySample is one reading of the manager's memory: what the kernel
// charges it (/proc) beside what the Go runtime says it holds (/metrics).
// In MiB.
type memorySample struct {
	rss, anon, file      float64 // /proc/<pid>/status
	heapInuse, heapIdle  float64 // go_memstats_*
	heapReleased, stacks float64
	goSys, gcGoal        float64
}

func (m memorySample) String() string {
	return fmt.Sprintf("RSS %.0f MiB (anonymous %.0f, file-backed %.0f); Go heap in use %.0f, "+
		"idle %.0f (%.0f returned to the OS), stacks %.0f, obtained from the OS %.0f, next GC at %.0f",
		m.rss, m.anon, m.file, m.heapInuse, m.heapIdle, m.heapReleased, m.stacks, m.goSys, m.gcGoal)
}

// memorySampler reads the manager's memory until stopped and keeps the
// reading taken at the highest RSS, to show what the peak is made of.
type memorySampler struct {
	peak memorySample
	stop chan struct{}
	done chan struct{}
}

func (b *bench) sampleMemory(every time.Duration) *memorySampler {
	s := &memorySampler{stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(s.done)
		ticker := time.NewTicker(every)
		defer ticker.Stop()
		for {
			select {
			case <-s.stop:
				return
			case <-ticker.C:
			}
			if m, ok := b.readMemory(); ok && m.rss > s.peak.rss {
				s.peak = m
			}
		}
	}()
	return s
}

// Stop ends the sampling and returns the reading at the highest RSS.
func (s *memorySampler) Stop() memorySample {
	close(s.stop)
	<-s.done
	return s.peak
}

func (b *bench) readMemory() (memorySample, bool) {
	status := b.procStatus()
	metrics, err := b.scrape()
	if status == nil || err != nil {
		return memorySample{}, false
	}
	gauge := func(name string) float64 {
		f, ok := metrics[name]
		if !ok || len(f.GetMetric()) == 0 {
			return 0
		}
		return f.GetMetric()[0].GetGauge().GetValue() / (1 << 20)
	}
	return memorySample{
		rss: status["VmRSS"], anon: status["RssAnon"], file: status["RssFile"],
		heapInuse: gauge("go_memstats_heap_inuse_bytes"), heapIdle: gauge("go_memstats_heap_idle_bytes"),
		heapReleased: gauge("go_memstats_heap_released_bytes"), stacks: gauge("go_memstats_stack_inuse_bytes"),
		goSys: gauge("go_memstats_sys_bytes"), gcGoal: gauge("go_memstats_next_gc_bytes"),
	}, true
}

// peakRSS reads the manager's VmHWM, in MiB.
func (b *bench) peakRSS() float64 {
	if hwm, ok := b.procStatus()["VmHWM"]; ok {
		return hwm
	}
	return -1
}

// procStatus reads the manager's /proc/<pid>/status sizes, in MiB, or nil.
func (b *bench) procStatus() map[string]float64 {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", b.manager.Cmd.Process.Pid))
	if err != nil {
		return nil
	}
	sizes := map[string]float64{}
	for line := range strings.SplitSeq(string(data), "\n") {
		name, value, ok := strings.Cut(line, ":")
		kb, found := strings.CutSuffix(strings.TrimSpace(value), " kB")
		if !ok || !found {
			continue
		}
		if v, err := strconv.ParseFloat(kb, 64); err == nil {
			sizes[name] = v / 1024
		}
	}
	return sizes
}
