import Type, { type Static } from 'typebox'

/** A conversation's sampling parameters; a field left out is the engine's default. */
export const ChatParams = Type.Object(
  {
    system: Type.Optional(Type.String({ maxLength: 100_000 })),
    temperature: Type.Optional(Type.Number({ minimum: 0, maximum: 2 })),
    top_p: Type.Optional(Type.Number({ minimum: 0, maximum: 1 })),
    /** More than any context holds (2^20): past it a number is a typo, not a limit. */
    max_tokens: Type.Optional(Type.Integer({ minimum: 1, maximum: 1_048_576 })),
    /** A JSON number engines read exactly. */
    seed: Type.Optional(Type.Integer({ minimum: Number.MIN_SAFE_INTEGER, maximum: Number.MAX_SAFE_INTEGER })),
    stop: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 500 }), { maxItems: 4 })),
  },
  { additionalProperties: false },
)
export type ChatParams = Static<typeof ChatParams>

const Title = Type.String({ minLength: 1, maxLength: 200 })
const ModelName = Type.String({ minLength: 1, maxLength: 256 })

/** `POST /admin/api/chats`. Without a title the first message names the conversation. */
export const ChatCreateBody = Type.Object(
  { title: Type.Optional(Title), model: ModelName, params: Type.Optional(ChatParams) },
  { additionalProperties: false },
)
export type ChatCreateBody = Static<typeof ChatCreateBody>

/** `PATCH /admin/api/chats/{id}`: rename, another model, new parameters (they replace the old ones whole). */
export const ChatPatchBody = Type.Object(
  { title: Type.Optional(Title), model: Type.Optional(ModelName), params: Type.Optional(ChatParams) },
  { additionalProperties: false, minProperties: 1 },
)
export type ChatPatchBody = Static<typeof ChatPatchBody>

/**
 * `POST /admin/api/chats/{id}/messages`. With `content`: a user message under `parentId` (default: the newest
 * message), then the answer — a `parentId` that already has children makes a sibling branch (an edit). Without
 * `content`: `parentId` names a user message to answer again (regenerate), beside its earlier answers.
 */
export const ChatSendBody = Type.Object(
  {
    content: Type.Optional(Type.String({ minLength: 1, maxLength: 1_000_000 })),
    /** null: a first message (an edit of the conversation's first message is a sibling of it). */
    parentId: Type.Optional(Type.Union([Type.String({ minLength: 1, maxLength: 64 }), Type.Null()])),
    /** This answer's model; default the conversation's. */
    model: Type.Optional(ModelName),
  },
  { additionalProperties: false },
)
export type ChatSendBody = Static<typeof ChatSendBody>

export const ChatMessageState = Type.Union([
  Type.Literal('streaming'),
  Type.Literal('complete'),
  /** Stopped by the user, or the gateway stopped while it streamed: what had arrived is kept. */
  Type.Literal('cut_off'),
  /** The engine or the gateway failed mid-answer: what had arrived is kept, with `error`. */
  Type.Literal('failed'),
])
export type ChatMessageState = Static<typeof ChatMessageState>

const Num = Type.Union([Type.Number(), Type.Null()])
const Int = Type.Union([Type.Integer(), Type.Null()])

/** The gateway's own measurements of an answer: the same figures as its usage row. */
export const ChatFigures = Type.Object({
  ttftMs: Num,
  totalMs: Num,
  promptTokens: Int,
  completionTokens: Int,
  /** completionTokens ÷ (totalMs − ttftMs), per second; null when any of them is unknown or no time passed. */
  decodeTokensPerSecond: Num,
})
export type ChatFigures = Static<typeof ChatFigures>

export const ChatMessageView = Type.Object({
  id: Type.String(),
  /** null for a conversation's first message (there may be several: edits of the first make siblings). */
  parentId: Type.Union([Type.String(), Type.Null()]),
  role: Type.Union([Type.Literal('user'), Type.Literal('assistant')]),
  content: Type.String(),
  /** The model's reasoning (`reasoning_content`), kept apart from the answer; null when there was none. */
  reasoning: Type.Union([Type.String(), Type.Null()]),
  /** Answers only: the model and parameters they were asked with. */
  model: Type.Union([Type.String(), Type.Null()]),
  params: Type.Union([ChatParams, Type.Null()]),
  state: ChatMessageState,
  error: Type.Union([Type.String(), Type.Null()]),
  /** The gateway's request id of an answer (its usage row's); null for user messages. */
  requestId: Type.Union([Type.String(), Type.Null()]),
  figures: Type.Union([ChatFigures, Type.Null()]),
  /** ISO 8601. */
  createdAt: Type.String(),
})
export type ChatMessageView = Static<typeof ChatMessageView>

export const ChatView = Type.Object({
  id: Type.String(),
  title: Type.String(),
  model: Type.String(),
  params: ChatParams,
  /** ISO 8601; the list is newest `updatedAt` first. */
  createdAt: Type.String(),
  updatedAt: Type.String(),
})
export type ChatView = Static<typeof ChatView>

/** `GET /admin/api/chats/{id}`: every message of every branch, oldest first. */
export const ChatDetail = Type.Intersect([ChatView, Type.Object({ messages: Type.Array(ChatMessageView) })])
export type ChatDetail = Static<typeof ChatDetail>

export const ChatSearchQuery = Type.Object(
  { q: Type.String({ minLength: 1, maxLength: 500 }), limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200 })) },
  { additionalProperties: false },
)
export type ChatSearchQuery = Static<typeof ChatSearchQuery>

/** One message that matched, best first. */
export const ChatSearchHit = Type.Object({
  chatId: Type.String(),
  chatTitle: Type.String(),
  messageId: Type.String(),
  role: Type.Union([Type.Literal('user'), Type.Literal('assistant')]),
  /** Plain text around the match (never markup). */
  snippet: Type.String(),
  createdAt: Type.String(),
})
export type ChatSearchHit = Static<typeof ChatSearchHit>

export const ChatExportQuery = Type.Object(
  { format: Type.Optional(Type.Union([Type.Literal('md'), Type.Literal('json')], { default: 'md' })) },
  { additionalProperties: false },
)
export type ChatExportQuery = Static<typeof ChatExportQuery>

/**
 * The events of the answer stream (`text/event-stream`, `event:` names the type): `started` once the engine
 * answers (the saved user message, if one was sent, and the answer being written), `delta`s as tokens arrive, then
 * `done` with the answer as saved — complete, cut_off or failed — and its figures.
 */
export type ChatStreamEvent =
  | { type: 'started'; user: ChatMessageView | null; answer: ChatMessageView }
  | { type: 'delta'; content?: string; reasoning?: string }
  | { type: 'done'; message: ChatMessageView }
