export { JobClient } from "./job-client.ts";
export type { JobClientOptions, JobToSubmit, SubmitResult, Submitted } from "./job-client.ts";
export { InvalidSubmissionError } from "./errors.ts";
export { submissionMessage } from "./submission-message.ts";
export type { SubmissionMessage } from "./submission-message.ts";
