import { describe, expect, it } from "vitest";

import { workConsumerName } from "./job-type.ts";
import { JobPriority, laneOf, prioritiesHighestFirst } from "./priority.ts";
import { Subject, parseWorkSubject, typeFromWorkSubject } from "./subjects.ts";

describe("priority lanes", () => {
  it("keeps the default priority on the subject and consumer of a type without lanes", () => {
    expect(Subject.work("email.send")).toBe("work.email.send");
    expect(Subject.work("email.send", JobPriority.default)).toBe("work.email.send");
    expect(workConsumerName("email.send")).toBe("work_email_send");
    expect(workConsumerName("email.send", 5)).toBe("work_email_send");
  });

  it("gives every other priority a subject and consumer of its own", () => {
    expect(Subject.work("email.send", 9)).toBe("work.email.send._p9");
    expect(Subject.work("email.send", 0)).toBe("work.email.send._p0");
    expect(workConsumerName("email.send", 9)).toBe("work_email_send__p9");
    const subjects = new Set(prioritiesHighestFirst.map((p) => Subject.work("email.send", p)));
    const consumers = new Set(prioritiesHighestFirst.map((p) => workConsumerName("email.send", p)));
    expect(subjects.size).toBe(10);
    expect(consumers.size).toBe(10);
  });

  it("reads type and priority back from every lane's subject", () => {
    for (const priority of prioritiesHighestFirst) {
      expect(parseWorkSubject(Subject.work("json.analyze", priority))).toEqual({
        type: "json.analyze",
        priority,
      });
    }
    expect(typeFromWorkSubject("work.email.send._p2")).toBe("email.send");
    expect(parseWorkSubject("jobs.submit.email")).toBeUndefined();
  });

  it("never mistakes a type's own token for a lane", () => {
    // `p9` is a valid type token; only `_p9`, which no type can have, is a lane.
    expect(parseWorkSubject("work.email.p9")).toEqual({ type: "email.p9", priority: 5 });
    expect(parseWorkSubject(Subject.work("email.p9", 3))).toEqual({
      type: "email.p9",
      priority: 3,
    });
    expect(workConsumerName("email.p9", 5)).not.toBe(workConsumerName("email", 9));
  });

  it("orders the lanes highest first and sends anything but a priority to the default lane", () => {
    expect(prioritiesHighestFirst).toEqual([9, 8, 7, 6, 5, 4, 3, 2, 1, 0]);
    expect(laneOf(7)).toBe(7);
    expect(laneOf(12)).toBe(JobPriority.default);
    expect(laneOf(2.5)).toBe(JobPriority.default);
    expect(laneOf("9")).toBe(JobPriority.default);
    expect(Subject.work("echo", 42)).toBe("work.echo");
  });
});
