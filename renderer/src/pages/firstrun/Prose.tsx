import { Fragment } from 'react'

/**
 * A sentence from the gateway (how to get llama-server, why Docker is down) as text: `quoted` commands become code and
 * https addresses links. Only React text nodes are made, so nothing in the sentence can become markup.
 */
export function Prose({ text }: { text: string }) {
  return (
    <>
      {text.split('`').map((part, i) =>
        i % 2 === 1 ? (
          <code key={i}>{part}</code>
        ) : (
          <Fragment key={i}>
            {part.split(/(https:\/\/[^\s,;)]+[^\s,;).])/).map((piece, j) =>
              j % 2 === 1 ? (
                <a key={j} href={piece} target="_blank" rel="noreferrer">
                  {piece}
                </a>
              ) : (
                piece
              ),
            )}
          </Fragment>
        ),
      )}
    </>
  )
}
