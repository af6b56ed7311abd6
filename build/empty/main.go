// Command empty is an empty Go reactor: the baseline tailor.wasm's size
// budget is measured against (build/size.sh builds both the same way).
package main

func main() {}
