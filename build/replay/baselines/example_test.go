package baselines_test

import (
	"context"
	"fmt"

	"github.com/tailorhq/tailor/build/replay/baselines"
	"github.com/tailorhq/tailor/build/replay/data"
)

func session(id string, items ...string) data.Session {
	s := data.Session{ID: id}
	for i, it := range items {
		s.Clicks = append(s.Clicks, data.Click{Item: it, At: int64(i) * 1000})
	}
	return s
}

// SR learns "after a, then b" from the order of clicks in past sessions.
func ExampleSR() {
	train := []data.Session{
		session("1", "phone", "case", "charger"),
		session("2", "phone", "case"),
		session("3", "laptop", "charger"),
	}
	m := baselines.NewSR() // session-rec's defaults: steps 10, div, pruning 20
	if err := m.Fit(context.Background(), train); err != nil {
		fmt.Println(err)
		return
	}
	s := m.Start()
	top, _ := s.Next("phone", 0, 3)
	fmt.Println(top)
	// Output:
	// [case charger]
}

// V-SKNN recommends what similar past sessions clicked.
func ExampleVSKNN() {
	train := []data.Session{
		session("1", "tent", "stove", "lamp"),
		session("2", "tent", "sleeping-bag"),
		session("3", "dress", "shoes"),
	}
	m := baselines.NewVSKNN(baselines.VSKNN64)
	if err := m.Fit(context.Background(), train); err != nil {
		fmt.Println(err)
		return
	}
	s := m.Start()
	s.Next("dress", 0, 5)
	top, _ := s.Next("tent", 1000, 5)
	fmt.Println(top)
	// Output:
	// [tent stove lamp sleeping-bag dress]
}
