package plural

import "testing"

func TestCount(t *testing.T) {
	for _, tt := range []struct {
		n    int64
		want string
	}{{0, "0 stores"}, {1, "1 store"}, {2, "2 stores"}, {-1, "-1 stores"}, {1000, "1000 stores"}} {
		if got := Count(tt.n, "store", "stores"); got != tt.want {
			t.Errorf("Count(%d) = %q, want %q", tt.n, got, tt.want)
		}
	}
	if got := Count(1, "item record", "item records"); got != "1 item record" {
		t.Errorf("got %q", got)
	}
	if Choose(1, "is", "are") != "is" || Choose(int64(0), "is", "are") != "are" {
		t.Error("Choose picks the wrong word")
	}
}
