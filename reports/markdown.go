package reports

import (
	"bytes"
	"html/template"

	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/extension"
	"github.com/yuin/goldmark/parser"
	"github.com/yuin/goldmark/text"
	"github.com/yuin/goldmark/util"
)

// commentaryMarkdown renders commentary with goldmark's defaults, which
// are the safe subset the pages need: raw HTML in the source is dropped
// (rendered as a comment saying so), and link and image destinations with
// a dangerous scheme (javascript:, vbscript:, file:, data: other than
// images) are left empty; text is escaped. Tables and strikethrough are
// added.
// Images become their text: a page loads nothing from another host.
var commentaryMarkdown = goldmark.New(
	goldmark.WithExtensions(extension.Table, extension.Strikethrough),
	goldmark.WithParserOptions(parser.WithASTTransformers(util.Prioritized(noImages{}, 100))),
)

// noImages replaces every image with its alternative text.
type noImages struct{}

func (noImages) Transform(doc *ast.Document, reader text.Reader, pc parser.Context) {
	var images []*ast.Image
	ast.Walk(doc, func(n ast.Node, entering bool) (ast.WalkStatus, error) {
		if img, ok := n.(*ast.Image); ok && entering {
			images = append(images, img)
		}
		return ast.WalkContinue, nil
	})
	for _, img := range images {
		parent := img.Parent()
		for c := img.FirstChild(); c != nil; {
			next := c.NextSibling()
			parent.InsertBefore(parent, img, c)
			c = next
		}
		parent.RemoveChild(parent, img)
	}
}

// renderMarkdown renders a commentary for a page.
func renderMarkdown(src string) (template.HTML, error) {
	var buf bytes.Buffer
	if err := commentaryMarkdown.Convert([]byte(src), &buf); err != nil {
		return "", err
	}
	return template.HTML(buf.String()), nil
}
