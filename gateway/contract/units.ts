import Type from 'typebox'

/** `500ms`, `30s`, `30m`, `2h`, `30d`; a bare number is seconds; `0` is never. */
export const Duration = Type.Union([Type.Number({ minimum: 0 }), Type.String({ pattern: '^\\d+(\\.\\d+)?(ms|s|m|h|d)?$' })], {
  description: 'a duration: 500ms, 30s, 30m, 2h, 30d; a bare number is seconds; 0 is never',
})

/** `64MiB`, `512KB`, `1GiB`; a bare number is bytes. */
export const ByteSize = Type.Union(
  [Type.Integer({ minimum: 1 }), Type.String({ pattern: '^\\d+(\\.\\d+)?\\s*([KMGT]i?B|B)?$' })],
  {
    description: 'a size: 64MiB, 512KB, 1GiB; a bare number is bytes',
  },
)
