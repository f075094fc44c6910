import { describe, expect, it } from "vitest";

import { redactUrls } from "./redact-url.ts";

describe("redactUrls", () => {
  it("hides the password of each URL of a list, keeping the user and the rest", () => {
    expect(redactUrls("nats://app:s3cret@n1:4222,nats://n2:4222")).toBe(
      "nats://app:***@n1:4222,nats://n2:4222",
    );
    expect(redactUrls("mongodb://root:p%40ss@db:27017/?authSource=admin")).toBe(
      "mongodb://root:***@db:27017/?authSource=admin",
    );
  });

  it("hides a password holding a comma, and keeps a MongoDB host list whole", () => {
    expect(redactUrls("mongodb://root:a,b@db1:27017,db2:27017/")).toBe(
      "mongodb://root:***@db1:27017,db2:27017/",
    );
  });

  it("hides a password holding an @ or a /", () => {
    expect(redactUrls("nats://app:p@ss@n1:4222")).toBe("nats://app:***@n1:4222");
    expect(redactUrls("nats://svc:ab/cd@nats:4222")).toBe("nats://svc:***@nats:4222");
    expect(redactUrls("svc:ab/cd@nats:4222")).toBe("svc:***@nats:4222");
  });

  it("hides a token given as the user alone", () => {
    expect(redactUrls("nats://t0ken@n1:4222")).toBe("nats://***@n1:4222");
  });

  it("leaves URLs without credentials, and text that is no URL, as they are", () => {
    expect(redactUrls("nats://127.0.0.1:4222")).toBe("nats://127.0.0.1:4222");
    expect(redactUrls("mongodb://127.0.0.1:27017/")).toBe("mongodb://127.0.0.1:27017/");
    expect(redactUrls("not a url")).toBe("not a url");
  });
});
