import { render } from '@testing-library/react'
import { describe, expect, it } from 'vitest'
import { highlighted, MAX_HIGHLIGHT } from './highlight.js'
import { decodeEntities, lexAnswer, Markdown, MAX_INLINE, MAX_MARKDOWN, safeHref } from './Markdown.js'
import { splitReasoning } from './thread.js'

const shown = (text: string) => render(<Markdown text={text} />).container

describe('Markdown', () => {
  it('shows an <img onerror> payload as text, with no element made from it', () => {
    const md = shown('Look: <img src=x onerror="globalThis.__xss=1"> here')
    expect(md.querySelector('img')).toBeNull()
    expect(md.textContent).toBe('Look: <img src=x onerror="globalThis.__xss=1"> here')
  })

  it('shows a <script> block as text', () => {
    const md = shown('<script>globalThis.__xss=2</script>\n\nafter')
    expect(md.querySelector('script')).toBeNull()
    expect(md.querySelector('pre.md-html')!.textContent).toBe('<script>globalThis.__xss=2</script>')
    expect(md.querySelector('p')!.textContent).toBe('after')
  })

  it('makes no link of javascript:, data: or relative addresses; http(s) opens in a new window without an opener', () => {
    const md = shown(
      '[one](javascript:alert(1)) [two](JaVaScRiPt:alert(1)) [three](data:text/html,<b>x</b>) [four](/admin) <javascript:alert(1)> [ok](https://example.com/a?b=1)',
    )
    const links = [...md.querySelectorAll('a')]
    expect(links.map((a) => a.getAttribute('href'))).toEqual(['https://example.com/a?b=1'])
    expect(links[0]!.getAttribute('target')).toBe('_blank')
    expect(links[0]!.getAttribute('rel')).toBe('noopener noreferrer')
    expect(md.textContent).toContain('one two three four')
  })

  it('shows an image as a link to it, never loading it', () => {
    const md = shown('![a cat](https://example.com/cat.png) ![x](javascript:alert(1))')
    expect(md.querySelector('img')).toBeNull()
    expect(md.querySelector('a')!.getAttribute('href')).toBe('https://example.com/cat.png')
    expect(md.textContent).toBe('[image: a cat] [image: x]')
  })

  it('renders emphasis, lists, tables, quotes and inline code; entities become characters, not markup', () => {
    const md = shown(
      '# Title\n\n**bold** _it_ `a<b>` &lt;b&gt; &amp;\n\n- one\n- two\n\n1. first\n\n> quoted\n\n| a | b |\n|---|---|\n| 1 | 2 |',
    )
    expect(md.querySelector('h3')!.textContent).toBe('Title')
    expect(md.querySelector('strong')!.textContent).toBe('bold')
    expect(md.querySelector('em')!.textContent).toBe('it')
    expect(md.querySelector('code')!.textContent).toBe('a<b>')
    expect(md.querySelector('b')).toBeNull()
    expect(md.querySelector('p')!.textContent).toBe('bold it a<b> <b> &')
    expect([...md.querySelectorAll('ul li')].map((li) => li.textContent)).toEqual(['one', 'two'])
    expect(md.querySelector('ol li')!.textContent).toBe('first')
    expect(md.querySelector('blockquote')!.textContent).toBe('quoted')
    expect([...md.querySelectorAll('td')].map((td) => td.textContent)).toEqual(['1', '2'])
  })

  it('highlights a code block of a known language, with a copy button for its text', () => {
    const md = shown('```python\ndef f(x):\n    return "<b>"\n```')
    const block = md.querySelector('[data-testid="code-block"]')!
    expect(block.querySelector('.hljs-keyword')!.textContent).toBe('def')
    expect(block.querySelector('.hljs-string')!.textContent).toBe('"<b>"')
    expect(block.querySelector('b')).toBeNull()
    expect(block.querySelector('code')!.textContent).toBe('def f(x):\n    return "<b>"')
    expect(block.querySelector('[data-testid="copy"]')!.textContent).toBe('Copy code')
  })

  it('shows a code block of an unknown language as plain text', () => {
    const md = shown('```brainfuck\n<script>+</script>\n```')
    const code = md.querySelector('code')!
    expect(code.children).toHaveLength(0)
    expect(code.textContent).toBe('<script>+</script>')
  })
})

/** What no answer may make: an element that runs or loads anything, an event handler, a link off http(s). */
function expectInert(md: HTMLElement) {
  expect(
    md.querySelector('script, img, svg, iframe, object, embed, style, link, video, audio, source, form, base, meta'),
  ).toBeNull()
  for (const el of md.querySelectorAll('*')) {
    for (const attr of el.getAttributeNames()) {
      expect(attr, el.outerHTML).not.toMatch(/^(on|src|srcset|style|formaction)/)
    }
  }
  for (const a of md.querySelectorAll('a')) {
    expect(a.getAttribute('href')).toMatch(/^https?:\/\//)
    expect(a.getAttribute('target')).toBe('_blank')
    expect(a.getAttribute('rel')).toBe('noopener noreferrer')
  }
}

describe('Markdown, given hostile answers', () => {
  const payloads = [
    '<img src=x onerror=alert(1)>',
    'inline <svg onload=alert(1)> and <iframe src="https://evil.example"></iframe>',
    '<div>\n<img src=x onerror=alert(1)>\n</div>\n\n<iframe src=javascript:alert(1)>',
    '<style>body{background:url(http://evil.example/beacon)}</style>',
    '[a](javascript:alert(1)) [b](JaVaScRiPt:alert(1)) [c](\u0000javascript:alert(1)) [d](&#106;avascript:alert(1))',
    '[e](data:text/html;base64,PHNjcmlwdD4=) [f](vbscript:msgbox) [g](  javascript:alert(1)) [h](java\tscript:alert(1))',
    '<javascript:alert(1)> <vbscript:x> <data:text/html,x>',
    '[ref][r] and [r]\n\n[r]: javascript:alert(1) "title"',
    '[t](https://ok.example "\\" onmouseover=alert(1) x=\\")',
    '![x](http://evil.example/beacon) ![y](https://evil.example/b.png "t") ![z][i]\n\n[i]: http://evil.example/i',
    '```"><img src=x onerror=alert(1)>\ncode\n```',
    '```html onload=alert(1)\n<img src=x onerror=alert(1)>\n```',
    '| <img src=x onerror=alert(1)> | [x](javascript:y) |\n|---|---|\n| <svg onload=alert(1)> | ok |',
    '- [ ] <img src=x onerror=1>\n- **<b onclick=alert(1)>bold</b>**',
    '<think><img src=x onerror=alert(1)>',
    '<a href="javascript:alert(1)">html link</a> <a href=https://ok.example onclick=alert(1)>x</a>',
  ]
  it.each(payloads)('%s stays inert', (payload) => {
    expectInert(shown(payload))
  })

  it('makes a link of http(s) addresses only, whatever the spelling of the others', () => {
    const md = shown(
      '[ok](HTTPS://Ok.Example/x) [no](&#x6A;avascript:alert(1)) <https://auto.example> [r][1]\n\n[1]: http://ref.example',
    )
    expect([...md.querySelectorAll('a')].map((a) => a.getAttribute('href'))).toEqual([
      'https://ok.example/x',
      'https://auto.example/',
      'http://ref.example/',
    ])
  })

  it('shows pathological input quickly, as plain text where Markdown would take too long or overflow the stack', () => {
    const cases = [
      '_a'.repeat(500_000),
      '*'.repeat(1_000_000),
      '['.repeat(500_000) + ']'.repeat(500_000),
      '>'.repeat(100_000) + ' deep',
      Array.from({ length: 2_000 }, (_, i) => `${' '.repeat(i * 2)}- x`).join('\n'),
      `${'_a'.repeat(MAX_INLINE)}\n\n`.repeat(20),
    ]
    // No timing asserted (a loaded CI machine is no clock): each case must render at all, where the unbounded lexer
    // ran for minutes or overflowed the stack.
    for (const text of cases) expect(shown(text).textContent!.length, text.slice(0, 20)).toBeGreaterThan(0)
    expect(lexAnswer('>'.repeat(100_000))).toBeNull()
    expect(lexAnswer('a'.repeat(MAX_MARKDOWN + 1))).toBeNull()
    expect(lexAnswer('a'.repeat(MAX_MARKDOWN))).not.toBeNull()
  })

  it('keeps a long paragraph as its text, still Markdown around it', () => {
    const long = `${'word '.repeat(MAX_INLINE / 4)}**not bold**`
    const md = shown(`**bold**\n\n${long}`)
    expect(md.querySelector('strong')!.textContent).toBe('bold')
    expect(md.querySelectorAll('strong')).toHaveLength(1)
    expect(md.textContent).toContain('**not bold**')
  })
})

describe('highlighted', () => {
  it('reads highlight.js’s spans back as elements, and HTML inside the code as text', () => {
    const nodes = render(<code>{highlighted('<img src=x onerror=alert(1)>', 'html')}</code>).container
    expect(nodes.querySelector('img')).toBeNull()
    expect(nodes.querySelector('.hljs-tag')!.textContent).toBe('<img src=x onerror=alert(1)>')
    expect(highlighted('x', 'no-such-language')).toBeNull()
    expect(highlighted('x', '__proto__')).toBeNull()
  })

  it('leaves code past MAX_HIGHLIGHT plain, so a pathological block cannot stall the page', () => {
    expect(highlighted('r#"'.repeat(30_000), 'rust')).toBeNull()
    expect(highlighted('{'.repeat(MAX_HIGHLIGHT + 1), 'typescript')).toBeNull()
    expect(highlighted('fn main() {}'.padEnd(MAX_HIGHLIGHT), 'rust')).not.toBeNull()
    const md = shown('```rust\n' + 'r#"'.repeat(30_000) + '\n```')
    expect(md.querySelector('code')!.children).toHaveLength(0)
    expect(md.querySelector('code')!.textContent).toHaveLength(90_000)
  })
})

describe('safeHref and decodeEntities', () => {
  it('keep only absolute http(s) addresses and decode entities to characters', () => {
    expect(safeHref('http://a.example/')).toBe('http://a.example/')
    expect(safeHref(' javascript:alert(1)')).toBeNull()
    expect(safeHref('vbscript:x')).toBeNull()
    expect(safeHref('//evil.example')).toBeNull()
    expect(decodeEntities('&lt;script&gt; &#169; &#x41; &bogus; &#0;')).toBe('<script> © A &bogus; &#0;')
  })
})

describe('splitReasoning', () => {
  it('folds a <think> block, an open one while streaming, and reasoning_content, out of the answer', () => {
    expect(splitReasoning({ content: '<think>\nhmm\n</think>\n\nHello', reasoning: null })).toEqual({
      reasoning: 'hmm',
      text: 'Hello',
    })
    expect(splitReasoning({ content: '  <think>still thinking', reasoning: null })).toEqual({
      reasoning: 'still thinking',
      text: '',
    })
    expect(splitReasoning({ content: 'plan</think>Answer', reasoning: 'first' })).toEqual({
      reasoning: 'first\n\nplan',
      text: 'Answer',
    })
    expect(splitReasoning({ content: 'Use <think> tags like <think>x</think>', reasoning: null })).toEqual({
      reasoning: null,
      text: 'Use <think> tags like <think>x</think>',
    })
  })
})
