# Stdlib workload: Markdown parse + show as plain text.
using Markdown

const DOC = """
# Title

Some *emphasis*, some **strong** text and `inline code`.

- first item
- second item with a [link](https://example.invalid)

```julia
f(x) = x + 1
```

> a quote
"""

main() = sprint(show, MIME("text/plain"), Markdown.parse(DOC))
