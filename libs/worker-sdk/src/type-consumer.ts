import { JobPriority } from "@conveyor/contracts";
import { ChurnTable } from "@conveyor/service-kit";
import type { Logger } from "@conveyor/service-kit";
import { JetStreamApiCodes, JetStreamApiError } from "@nats-io/jetstream";
import type { Consumer, JsMsg } from "@nats-io/jetstream";

import { Delivery } from "./delivery.ts";
import type { DeliveryDeps, DeliverySlot } from "./delivery.ts";
import { SlotGate } from "./slot-gate.ts";
import { claimedPriority, newWorkLane, nextListenSize } from "./work-lane.ts";
import type { WorkLane } from "./work-lane.ts";

/** How a {@link TypeConsumer} pulls. */
export interface PullSettings {
  /** Handlers running at once. */
  concurrency: number;
  /**
   * Longest one pull waits for work, in milliseconds (at least 1000); a pull listening for a
   * lane's next job while the worker holds jobs of the type lasts {@link listenMs}.
   */
  pullExpiresMs: number;
  /**
   * How many jobs beyond `concurrency` the consumer may hold while finished ones wait for their
   * outcome to be stored (the event's PubAck) before being acknowledged; at `concurrency` plus this
   * many it stops pulling. @default {@link defaultSettlingLimit}
   */
  settlingLimit?: number;
}

/**
 * Finished jobs that may wait for their outcome to be stored, by default. A handler's slot is
 * free as soon as it returns: were it held until JetStream confirms the outcome, `concurrency`
 * divided by that round trip would cap the worker (32 slots and a 20 ms PubAck under load: 1,600
 * jobs/s, whatever the handlers cost). Bounded, so a slow store stops the pulling, not the memory.
 */
export const defaultSettlingLimit = 256;

/** A delivery being processed: whether its handler is done, whether it holds a slot, and its end. */
interface Running {
  handling: boolean;
  holdsSlot: boolean;
  delivery: Delivery | undefined;
  done: Promise<void>;
}

/** A lane's work consumer, as the worker opened it. */
export interface LaneConsumer {
  priority: number;
  consumer: Consumer;
  /** Jobs waiting in the lane when it was opened (its `num_pending`). @default 0 */
  waiting?: number;
}

const retryPullAfterMs = { first: 500, max: 10_000 } as const;

/** Longest a free slot waits for others before pulling, while work is waiting, in milliseconds. */
const gatherSlotsMs = 2;

/**
 * How long an idle worker that a quiet lane hands jobs with more waiting behind them (a burst: a
 * type resumed, a bulk queued) waits for the other lanes' jobs of that burst before starting any,
 * so that the highest start first: the server hands each lane's jobs out a moment apart, in no
 * particular order. Only the first jobs of a burst wait.
 */
const burstGatherMs = 10;

/**
 * How long a lane must have brought nothing for jobs it brings with more behind them to be a
 * burst's first: a steady flow, with the worker now and then idle between jobs, is not held up.
 */
const burstAfterQuietMs = 1_000;

/**
 * How long a pull listening for a lane's next job stays open while the worker holds jobs of the
 * type: the shortest pull nats.js makes. Opened while the worker had a free slot, or held no job of
 * the lane's priority or a higher one, it may bring a job once that is no longer so, which then
 * waits for a slot: at most this long after the worker got busy.
 */
const listenMs = 1_000;

/** One job type's queue: jobs waiting for a worker, and jobs delivered and not yet settled. */
export interface TypeBacklog {
  type: string;
  /** Jobs in `WORK` not delivered yet, every priority's. */
  waiting: number;
  /**
   * Jobs delivered to some worker and not yet acknowledged: running, being recorded, or failed and
   * waiting out their retry delay (a delayed `nak` leaves a job unacknowledged until redelivered).
   */
  inFlight: number;
  /** Whether the type is paused (its work consumers' pause): no worker is handed its jobs. */
  paused: boolean;
}

/**
 * Pulls one job type's work consumers, one per priority, and runs at most `concurrency` handlers
 * at once, the waiting jobs of the highest priority first.
 *
 * Every lane keeps a pull open for the next job to come; the server's count of what waits behind
 * each delivered message tells the worker which lanes have a backlog. A lane known to have one is
 * pulled for as many jobs as the worker has free slots, before any lane below it is pulled at all,
 * so that a backlog of a lower priority waits however long it is. Pulls ask for no more than the
 * free slots, but for one: a lane's open pull may bring a job while every slot is taken (a job of
 * a higher priority came while the worker was busy with lower ones); it waits, holding its lease,
 * and takes the next free slot before the others. A finished job keeps no slot while its outcome
 * is being stored (up to `settlingLimit` of them).
 */
export class TypeConsumer {
  /** Highest priority first. */
  readonly #lanes: WorkLane[];
  readonly #reopen: ((priority: number) => Promise<Consumer>) | undefined;
  readonly #deps: DeliveryDeps;
  readonly #settings: PullSettings;
  readonly #logger: Logger;
  /** Jobs in flight; a `ChurnTable`, as every job adds and removes one. */
  readonly #inFlight = new ChurnTable<Running>();
  readonly #settlingLimit: number;
  readonly #gate: SlotGate;
  /**
   * Deliveries whose handler has not returned yet (not yet at their slot, waiting, or running), by
   * priority.
   */
  readonly #heldByPriority: number[] = Array.from({ length: JobPriority.highest + 1 }, () => 0);
  #pulls = 0;
  #stopped = false;
  readonly #pullingStopped = Promise.withResolvers<undefined>();
  /** While work waits and few slots are free: whether free slots are being gathered, or were. */
  #gathering: "no" | "yes" | "done" = "no";
  #gatherTimer: NodeJS.Timeout | undefined;
  #wakeTimer: NodeJS.Timeout | undefined;
  #wakeAt = Infinity;
  #burstTimer: NodeJS.Timeout | undefined;
  #admitScheduled = false;

  /**
   * `lanes` are the type's work consumers, one per priority; `reopen` creates the type's work
   * consumers if they are missing and gets one lane's, as the worker does at start; it is called
   * when a lane's consumer is found gone after a pull failed.
   */
  constructor(
    lanes: readonly LaneConsumer[],
    deps: DeliveryDeps,
    settings: PullSettings,
    reopen?: (priority: number) => Promise<Consumer>,
  ) {
    this.#lanes = lanes
      .map(({ priority, consumer, waiting }) => newWorkLane(priority, consumer, waiting))
      .sort((a, b) => b.priority - a.priority);
    this.#reopen = reopen;
    this.#deps = deps;
    this.#settings = settings;
    this.#settlingLimit = Math.max(1, settings.settlingLimit ?? defaultSettlingLimit);
    this.#gate = new SlotGate(settings.concurrency, () => claimedPriority(this.#lanes));
    this.#logger = deps.logger.child({ type: deps.settings.type });
  }

  /** Jobs held now: handlers running or waiting for a slot, and finished jobs being stored. */
  get inFlight(): number {
    return this.#inFlight.size;
  }

  /** The type's queue as its work consumers count it, across every worker (asks the server). */
  async backlog(): Promise<TypeBacklog> {
    const infos = await Promise.all(this.#lanes.map((lane) => lane.consumer.info()));
    return {
      type: this.#deps.settings.type,
      waiting: infos.reduce((sum, info) => sum + info.num_pending, 0),
      inFlight: infos.reduce((sum, info) => sum + info.num_ack_pending, 0),
      paused: infos.some((info) => info.paused === true),
    };
  }

  start(): void {
    this.#pump();
  }

  /**
   * Stops asking for work. A pull already open runs until it expires, and what it still delivers
   * is run like any other job: returning it (`nak`) would only hand it back to that same pull and
   * spend its attempts.
   */
  stopPulling(): void {
    this.#stopped = true;
    clearTimeout(this.#wakeTimer);
    clearTimeout(this.#gatherTimer);
    if (this.#burstTimer !== undefined) {
      clearTimeout(this.#burstTimer);
      this.#burstTimer = undefined;
      this.#gate.release();
    }
    if (this.#pulls === 0) this.#pullingStopped.resolve(undefined);
  }

  /** Resolves when the last pull has ended; no message arrives after that. */
  pullingStopped(): Promise<void> {
    return this.#pullingStopped.promise;
  }

  /** Resolves when pulling has stopped and every running handler's job is settled. */
  async finished(): Promise<void> {
    await this.#pullingStopped.promise;
    while (this.#inFlight.size > 0) {
      await Promise.all(this.#inFlight.values().map((running) => running.done));
    }
  }

  /**
   * Returns the jobs waiting for a slot or their rate limit (or coming to that wait) to the queue
   * at once. Call after {@link pullingStopped}.
   */
  startNoMore(): void {
    for (const running of this.#inFlight.values()) running.delivery?.startNoMore();
  }

  /** Aborts every running handler; their jobs go back to the queue. Call after {@link pullingStopped}. */
  interrupt(): void {
    for (const running of this.#inFlight.values()) running.delivery?.interrupt();
  }

  /**
   * Messages the worker may still ask for: handler slots neither taken nor promised to a delivery
   * on its way to one or to an open pull, within the settling limit. Jobs waiting for a slot are
   * left out (but while a burst gathers): they wait for jobs of a higher priority, which must be
   * pulled to run first.
   */
  #room(): number {
    const { concurrency } = this.#settings;
    const heldRoom = concurrency + this.#settlingLimit - this.#inFlight.size;
    // Jobs held while a burst gathers are about to take slots: they count.
    const aside = this.#burstTimer === undefined ? this.#gate.waiting : 0;
    const handling = this.#heldByPriority.reduce((sum, count) => sum + count, 0);
    const slotted = handling - aside;
    const reserved = this.#lanes.reduce((sum, lane) => sum + lane.reserved, 0);
    return Math.min(concurrency - slotted, heldRoom) - reserved;
  }

  /** The lowest priority of the jobs this worker holds, `-Infinity` when it holds none. */
  #lowestHeld(): number {
    const lowest = this.#heldByPriority.findIndex((count) => count > 0);
    return lowest < 0 ? -Infinity : lowest;
  }

  /**
   * Opens the pulls the lanes need now, highest priority first. A lane with jobs known to wait
   * gets as many of the free slots as it has jobs, and while any of its jobs are left waiting no
   * lower lane is pulled. The other lanes listen for the next job (a pull for as many as the free
   * slots, at least one, that ends after {@link listenMs}): all of them while a slot is free; with
   * every slot taken, only those above the jobs the worker holds or above a backlog, so that a job
   * of a higher priority reaches a busy worker (it waits, its lease renewed, and takes the next
   * free slot), while a job the worker would have to hold behind jobs of its own priority or a
   * higher one is left to another replica, which may have a slot for it. Called whenever a slot
   * frees or a pull ends; opens nothing once stopped.
   */
  #pump(): void {
    // What waits in `WORK` may have changed: jobs held for a higher priority may start now.
    this.#gate.admitWaiting();
    if (this.#stopped) return;
    // Finished jobs whose outcome waits to be stored fill the settling limit: a slow store stops
    // the pulling, not the memory.
    const { concurrency } = this.#settings;
    if (this.#inFlight.size >= concurrency + this.#settlingLimit) return;
    const backlog = claimedPriority(this.#lanes);
    const lowestHeld = this.#lowestHeld();
    const now = Date.now();
    let room = this.#room();
    const slotFree = room > 0;
    // Listening pulls together ask for no more than the free slots, but for one each.
    const listening = this.#lanes.reduce((sum, lane) => sum + lane.open - lane.reserved, 0);
    let listenRoom = room - listening;
    for (const lane of this.#lanes) {
      // A failing lane's jobs were forgotten (`#pullFailed`): it holds no lane below up.
      if (lane.retryAt > now) {
        this.#wakeIn(lane.retryAt - now);
        continue;
      }
      if (lane.waiting > 0) {
        if (lane.pulling || room <= 0) return;
        if (!this.#slotsGathered(room)) return;
        // For every free slot: once the jobs known to wait are in, the pull goes on bringing
        // those that come, as a listening one would, until it is full or runs out.
        const known = Math.min(room, lane.waiting);
        lane.waiting -= known;
        this.#pull(lane, room, known);
        listenRoom -= room - known;
        room -= known;
        if (lane.waiting > 0) return;
        continue;
      }
      if (lane.pulling) continue;
      // With no slot free, only for a job that would go before all the worker holds or knows of.
      const above = lane.priority > Math.max(lowestHeld, backlog);
      if (slotFree || above) {
        const size = Math.max(1, Math.min(lane.listenSize, listenRoom));
        listenRoom -= size;
        this.#pull(lane, size, 0);
      }
    }
  }

  /**
   * While work waits, gives finishing jobs up to {@link gatherSlotsMs} to free half the slots
   * before pulling, so that one pull brings many jobs rather than one pull per finished job: each
   * pull costs the client a subscription and the server a request. A slot stays empty for at most
   * that long.
   */
  #slotsGathered(room: number): boolean {
    const enough = Math.ceil(this.#settings.concurrency / 2);
    if (room >= enough || this.#gathering === "done") {
      this.#gathering = "no";
      clearTimeout(this.#gatherTimer);
      return true;
    }
    // Told by its own timer, not by reading a clock a timer may fire a little before.
    if (this.#gathering === "no") {
      this.#gathering = "yes";
      this.#gatherTimer = setTimeout(() => {
        this.#gathering = "done";
        this.#pump();
        // Not used by this pump (the lane was being pulled, or no slot was free): not the next
        // gathering's either.
        if (this.#gathering === "done") this.#gathering = "no";
      }, gatherSlotsMs);
    }
    return false;
  }

  /** Pumps again in `ms` (or sooner, when already due sooner). */
  #wakeIn(ms: number): void {
    const at = Date.now() + ms;
    if (this.#wakeTimer !== undefined && this.#wakeAt <= at) return;
    clearTimeout(this.#wakeTimer);
    this.#wakeAt = at;
    this.#wakeTimer = setTimeout(() => {
      this.#wakeTimer = undefined;
      this.#wakeAt = Infinity;
      this.#pump();
    }, ms);
  }

  /**
   * Opens a pull of the lane for `size` jobs, `known` of them known to wait: those are counted
   * against the free slots until they come, the others against nothing (a pull listening for the
   * next jobs that brings more than there are free slots then is what lets a job of a higher
   * priority reach a busy worker). A listening pull opened while the worker holds no job of the
   * type lasts `pullExpiresMs`; any other, {@link listenMs}.
   */
  #pull(lane: WorkLane, size: number, known: number): void {
    lane.pulling = true;
    lane.open = size;
    lane.reserved = known;
    this.#pulls++;
    // A pull for known jobs may wait for jobs another replica took: it keeps its slots from the
    // other lanes for a second at most.
    const idle = this.#lowestHeld() === -Infinity;
    const expiresMs = idle && known === 0 ? this.#settings.pullExpiresMs : listenMs;
    void this.#runPull(lane, size, known === 0, expiresMs);
  }

  async #runPull(
    lane: WorkLane,
    size: number,
    listening: boolean,
    expiresMs: number,
  ): Promise<void> {
    let received = 0;
    try {
      const messages = await lane.consumer.fetch({ max_messages: size, expires: expiresMs });
      for await (const msg of messages) {
        received++;
        lane.open = size - received;
        // The server's count of what waits behind this job, for every replica: this pull brings
        // no more of them than that.
        const pending = msg.info.pending;
        const behind = pending > 0 ? pending : 0;
        lane.reserved = Math.min(Math.max(0, lane.reserved - 1), behind, lane.open);
        lane.waiting = Math.max(0, behind - lane.open);
        // Once the jobs known to wait are in (none reserved, none waiting), the rest of the pull
        // listens, and keeps no lane below from its turn (`claimedPriority`).
        const now = performance.now();
        const quiet = now - lane.lastDeliveryAt >= burstAfterQuietMs;
        lane.lastDeliveryAt = now;
        // Nothing outranks the highest lane's jobs: they need not wait for the others'.
        const highest = lane === this.#lanes[0];
        if (listening && quiet && !highest && behind > 0 && this.#lowestHeld() === -Infinity) {
          this.#gatherBurst();
        }
        this.#start(msg, lane.priority);
        // The lane's claim may have dropped: jobs held for its jobs may take free slots, once
        // this one has come to its slot.
        this.#admitSoon();
      }
      const error = await messages.closed();
      if (error) throw error;
      // A pull that ran out before it was full found the lane empty.
      if (received < size) lane.waiting = 0;
      if (listening) {
        lane.listenSize = nextListenSize(size, received, this.#settings.concurrency);
      }
      lane.failures = 0;
    } catch (err) {
      if (!this.#stopped) await this.#pullFailed(lane, err);
    } finally {
      lane.open = 0;
      lane.reserved = 0;
      lane.pulling = false;
      this.#pulls--;
      if (this.#stopped && this.#pulls === 0) this.#pullingStopped.resolve(undefined);
      this.#pump();
    }
  }

  /** Gives free slots to waiting jobs after the deliveries started in this turn took theirs. */
  #admitSoon(): void {
    if (this.#admitScheduled || this.#gate.waiting === 0) return;
    this.#admitScheduled = true;
    setImmediate(() => {
      this.#admitScheduled = false;
      this.#gate.admitWaiting();
    });
  }

  /** Holds the slots for {@link burstGatherMs}, then gives them highest priority first. */
  #gatherBurst(): void {
    if (this.#burstTimer !== undefined || this.#stopped) return;
    this.#gate.hold();
    this.#burstTimer = setTimeout(() => {
      this.#burstTimer = undefined;
      this.#gate.release();
      this.#pump();
    }, burstGatherMs);
  }

  async #pullFailed(lane: WorkLane, err: unknown): Promise<void> {
    lane.failures++;
    // Forgotten: lanes below are not held up by one that cannot be pulled.
    lane.waiting = 0;
    const delayMs = Math.min(
      retryPullAfterMs.max,
      retryPullAfterMs.first * 2 ** (lane.failures - 1),
    );
    // Every lane fails together while the server is away: one warning per lane at first, then
    // one in ten.
    if (lane.failures === 1 || lane.failures % 10 === 0) {
      this.#logger.warn(
        { err, priority: lane.priority, delayMs, failures: lane.failures },
        "pulling work failed; retrying",
      );
    }
    if (await this.#reopenIfGone(lane)) {
      lane.failures = 0;
      lane.retryAt = 0;
    } else {
      lane.retryAt = Date.now() + delayMs;
    }
  }

  /**
   * After a failed pull: when the server says the lane's work consumer, or `WORK` itself, no
   * longer exists (deleted, or JetStream's state lost and provisioned anew), creates the type's
   * consumers again, so that its jobs run instead of waiting in `WORK` for a restart. Asked of the
   * server, not read from the pull's error, which is "no responders" for a missing consumer and
   * for a server away alike. Every replica whose pull failed reconciles the consumers so (when
   * they are there too): whichever created one first set its own lease, and one whose lease is
   * longer raises it again, as at start. Resolves with whether the consumer was gone and is there
   * again.
   */
  async #reopenIfGone(lane: WorkLane): Promise<boolean> {
    if (this.#reopen === undefined) return false;
    let gone = false;
    try {
      await lane.consumer.info();
    } catch (err) {
      gone = isMissing(err);
      // The server away: nothing can be reconciled now.
      if (!gone) return false;
    }
    try {
      lane.consumer = await this.#reopen(lane.priority);
      if (gone) {
        this.#logger.warn(
          { priority: lane.priority },
          "the type's work consumer was gone; it is created again",
        );
      }
      return gone;
    } catch (err) {
      this.#logger.warn(
        { err, priority: lane.priority },
        gone
          ? "the type's work consumer is gone and cannot be created yet (is WORK provisioned?)"
          : "the type's work consumer could not be reconciled after a failed pull",
      );
      return false;
    }
  }

  #start(msg: JsMsg, priority: number): void {
    const running: Running = {
      handling: true,
      holdsSlot: false,
      delivery: undefined,
      done: Promise.resolve(),
    };
    const gate = this.#gate;
    const slot: DeliverySlot = {
      tryTake: () => {
        if (!gate.tryEnter(priority)) return false;
        running.holdsSlot = true;
        return true;
      },
      take: (signal) =>
        gate.enter(priority, signal, () => {
          running.holdsSlot = true;
        }),
    };
    const delivery = new Delivery(msg, this.#deps, slot);
    running.delivery = delivery;
    const key = this.#inFlight.add(running);
    this.#heldByPriority[priority] = (this.#heldByPriority[priority] ?? 0) + 1;
    const handlerReturned = () => {
      if (!running.handling) return;
      running.handling = false;
      this.#heldByPriority[priority] = (this.#heldByPriority[priority] ?? 1) - 1;
      if (running.holdsSlot) {
        running.holdsSlot = false;
        gate.leave();
      }
      this.#pump();
    };
    void delivery.handlerDone.then(handlerReturned);
    running.done = delivery.process().finally(() => {
      handlerReturned();
      this.#inFlight.delete(key);
      this.#pump();
    });
  }
}

/** Whether a JetStream API error says the consumer or its stream does not exist. */
function isMissing(err: unknown): boolean {
  return (
    err instanceof JetStreamApiError &&
    (err.code === JetStreamApiCodes.ConsumerNotFound ||
      err.code === JetStreamApiCodes.StreamNotFound)
  );
}
