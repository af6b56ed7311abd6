package publish

// FoldEvery is foldEvery, for the tests.
const FoldEvery = foldEvery
