package synth

import (
	"reflect"
	"testing"
)

func TestGenerateDeterministic(t *testing.T) {
	p := Default()
	p.TrainSessions, p.TestSes = 50, 10
	a1, b1, c1 := Generate(p, 7)
	a2, b2, c2 := Generate(p, 7)
	if !reflect.DeepEqual(a1, a2) || !reflect.DeepEqual(b1, b2) || !reflect.DeepEqual(c1, c2) {
		t.Error("same seed, different data")
	}
	a3, _, _ := Generate(p, 8)
	if reflect.DeepEqual(a1, a3) {
		t.Error("different seeds, same data")
	}
}

func TestGenerateShape(t *testing.T) {
	p := Default()
	train, test, cats := Generate(p, 1)
	if len(train) != p.TrainSessions || len(test) != p.TestSes || len(cats) != p.Items {
		t.Fatalf("%d train, %d test, %d categories", len(train), len(test), len(cats))
	}
	lastTrain := train[len(train)-1].Clicks
	if test[0].Clicks[0].At <= lastTrain[len(lastTrain)-1].At {
		t.Error("evaluation sessions overlap training in time")
	}
	for _, s := range append(train, test...) {
		if len(s.Clicks) < p.MinLen || len(s.Clicks) > p.MaxLen {
			t.Fatalf("session %s has %d clicks", s.ID, len(s.Clicks))
		}
		for _, c := range s.Clicks {
			if _, ok := cats[c.Item]; !ok {
				t.Fatalf("item %s without category", c.Item)
			}
		}
	}
}
