package data

import (
	"io"
	"os"
	"strings"
)

// ReadCategories reads an `itemId;categoryId` file (DIGINETICA's
// product-categories.csv) into a map from item id to category id.
func ReadCategories(path string) (map[string]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return ParseCategories(f, path)
}

// ParseCategories reads an `itemId;categoryId` file from r; name labels
// errors. An item listed twice with different categories is an error.
func ParseCategories(r io.Reader, name string) (map[string]string, error) {
	lr := newLineReader(r, name)
	header, err := lr.header()
	if err != nil {
		return nil, err
	}
	fields := strings.Split(header, ";")
	idx, ok := columns(fields, "itemId", "categoryId")
	if !ok {
		return nil, lr.errorf(ErrHeader, "%q: want %q", clip(header), "itemId;categoryId")
	}
	cats := make(map[string]string)
	err = lr.rows(";", len(fields), idx[0], idx[1], "itemId or categoryId", func(_ []string, item, cat string) error {
		if old, dup := cats[item]; dup && old != cat {
			return lr.errorf(ErrRow, "item %q in categories %q and %q", item, old, cat)
		}
		cats[item] = cat
		return nil
	})
	if err != nil {
		return nil, err
	}
	return cats, nil
}
