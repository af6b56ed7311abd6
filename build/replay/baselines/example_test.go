package baselines_test

import (
	"context"
	"fmt"

	"github.com/tailorhq/tailor/build/replay/baselines"
	"github.com/tailorhq/tailor/build/replay/data"
)

// SR learns "after a, then b" from the order of clicks in past sessions.
func ExampleSR() {
	train := []data.Session{
		data.NewSession("1", "phone", "case", "charger"),
		data.NewSession("2", "phone", "case"),
		data.NewSession("3", "laptop", "charger"),
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
		data.NewSession("1", "tent", "stove", "lamp"),
		data.NewSession("2", "tent", "sleeping-bag"),
		data.NewSession("3", "dress", "shoes"),
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
