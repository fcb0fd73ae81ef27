package python

import (
	"os"
	"os/exec"
	"testing"
)

// TestWorkerPython runs test_worker.py (the worker's own tests, among
// them random frames fed to its decoder) with every interpreter at hand.
func TestWorkerPython(t *testing.T) {
	ran := false
	for _, py := range []string{"python3", "/usr/bin/python3"} {
		path, err := exec.LookPath(py)
		if err != nil {
			continue
		}
		ran = true
		out, err := exec.Command(path, "test_worker.py").CombinedOutput()
		if err != nil {
			t.Errorf("%s test_worker.py: %v\n%s", path, err, out)
		}
	}
	if !ran {
		if os.Getenv("WSGID_REQUIRE_ALL") != "" {
			t.Fatal("python3 not found")
		}
		t.Skip("python3 not found")
	}
}
