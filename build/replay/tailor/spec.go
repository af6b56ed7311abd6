package tailor

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// setters set the fields of a P that a spec may name, by lower-case name.
type setters[P any] map[string]func(p *P, v float64)

// names are the fields' names, sorted.
func (s setters[P]) names() []string {
	names := make([]string, 0, len(s))
	for n := range s {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// apply changes *p by spec, a comma-separated list of field=value (the
// field in any case), the -server and -ranking flags' form; a field it
// does not know or a value that is not a number is an error of kind bad.
func (s setters[P]) apply(p *P, spec string, bad error) error {
	for _, kv := range strings.Split(spec, ",") {
		name, value, ok := strings.Cut(strings.TrimSpace(kv), "=")
		set := s[strings.ToLower(name)]
		if !ok || set == nil {
			return fmt.Errorf("%w: %q: want field=value with a field among %s", bad, kv, strings.Join(s.names(), ", "))
		}
		v, err := strconv.ParseFloat(value, 64)
		if err != nil {
			return fmt.Errorf("%w: %q: %v", bad, kv, err)
		}
		set(p, v)
	}
	return nil
}
