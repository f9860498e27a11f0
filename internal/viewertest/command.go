package viewertest

import (
	"bufio"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// Command builds the querytrace command into a directory of the test's
// and returns its path.
func Command(t testing.TB) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "querytrace")
	out, err := exec.Command("go", "build", "-o", bin, "github.com/querytrace/querytrace/cmd/querytrace").CombinedOutput()
	if err != nil {
		t.Fatalf("build the querytrace command: %v\n%s", err, out)
	}
	return bin
}

// serving is the line with which querytrace serve says where it serves.
var serving = regexp.MustCompile(`^querytrace: serving .* at (http://[^ ]+)/debug/querytrace/$`)

// Serve runs bin serve on a free loopback port over dir, with args before
// it, until the test ends, and returns the base URL it serves at and the
// lines it logged until it said so. It fails the test if the command
// ends, or does not serve within a minute: a named pipe waited on, say.
func Serve(t testing.TB, bin, dir string, args ...string) (base string, logged []string) {
	t.Helper()
	cmd := exec.Command(bin, append(append([]string{"serve", "-addr", "127.0.0.1:0"}, args...), dir)...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	lines := make(chan string)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()
	timeout := time.After(time.Minute)
	for {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatalf("querytrace serve ended:\n%s", strings.Join(logged, "\n"))
			}
			logged = append(logged, l)
			if m := serving.FindStringSubmatch(l); m != nil {
				go func() {
					for range lines { // keep its stderr drained
					}
				}()
				return m[1], logged
			}
		case <-timeout:
			t.Fatalf("querytrace serve does not serve:\n%s", strings.Join(logged, "\n"))
		}
	}
}
