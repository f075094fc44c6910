/**
 * Deepest message body the projector accepts, in nested objects and arrays (the body itself is
 * level 1). MongoDB stores documents nested at most 100 levels deep, and a message's payload or
 * result sits as deep in its read-model document as in the message; the schema validator would
 * also overflow the call stack on bodies nested some 1,500 levels deep. Deeper bodies are refused
 * before validation.
 */
export const maxMessageDepth = 90;
