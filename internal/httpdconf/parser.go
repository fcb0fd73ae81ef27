package httpdconf

import "errors"

// parser is replaced by the real implementation.
type parser struct{ opts *Options }

func newParser(opts *Options) *parser { return &parser{opts: opts} }

func (p *parser) parseTop(path string) ([]*Directive, []error) {
	return nil, []error{errors.New("not implemented")}
}
