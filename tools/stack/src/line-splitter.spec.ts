import { describe, expect, it } from "vitest";

import { createLineSplitter } from "./line-splitter.ts";

describe("createLineSplitter", () => {
  it("emits whole lines however the text is chunked", () => {
    const lines: string[] = [];
    const splitter = createLineSplitter((line) => lines.push(line));
    splitter.write('{"msg":"a');
    expect(lines).toEqual([]);
    splitter.write('bc"}\nsecond\r\nthi');
    splitter.write("rd\n\n");
    expect(lines).toEqual(['{"msg":"abc"}', "second", "third", ""]);
  });

  it("flush emits a pending partial line once", () => {
    const lines: string[] = [];
    const splitter = createLineSplitter((line) => lines.push(line));
    splitter.write("no newline");
    splitter.flush();
    splitter.flush();
    expect(lines).toEqual(["no newline"]);
  });
});
