// Type declarations of Tailor's browser loader: window.tailor, set by the
// script tag (dist/tailor.js), and the ES module (dist/tailor.mjs).
//
//   <script src="https://HOST/tailor.js" data-site="KEY" async></script>
//
//   import { start, rank } from "./tailor.mjs";
//   start({ site: "KEY", origin: "https://HOST" });
//
// Nothing here rejects or throws: when Tailor cannot run (no WebAssembly,
// a blocked download, storage refused), rankings come back in the site's
// own order with source "default", and the page keeps its content.

/** How slots are ranked: the learned model with the site's rules, or the rules alone. */
export type Mode = "ai" | "rules";

/** Why an item holds its place. */
export type Source = "default" | "model" | "rule" | "explore";

/** The top reason of an item's score, for "Why am I seeing this?"; ref names what it points at. */
export type Reason = "" | "session" | "history" | "affinity" | "popular" | "rule" | "replenish" | "repeat" | "explore" | "search";

/** The experiment arm the device belongs to ("" when Tailor is not running). */
export type Arm = "" | "treatment" | "holdout" | "rules";

/** A site's privacy mode. */
export type Privacy = "local" | "federated" | "federated+ldp";

/** An item as the page describes it; only id is required. */
export interface Item {
  id: string;
  category?: string;
  /** An array, or a comma-separated list. */
  tags?: string[] | string;
  price?: number;
  /** A display name, used by explain(). */
  name?: string;
}

/** An item's id (described by the page's element data-tailor-item="ID", if any), or an item. */
export type ItemRef = string | Item;

/** What Tailor adds to each ranked item. */
export interface RankedFields {
  id: string;
  score: number;
  source: Source;
  reason: Reason;
  /** The item, category, tag, search term or rule the reason points at. */
  ref: string;
}

/** A ranked item: the object given to rank() (when it was one) with the ranking's fields. */
export type Ranked<T extends ItemRef = ItemRef> = (T extends string ? {} : Omit<T, keyof RankedFields>) & RankedFields;

export interface RankOptions {
  /** The slot's name, for rules and statistics (default "api"). */
  slot?: string;
  /** How many to return; 0 or absent for all. */
  limit?: number;
  /** The mode for this ranking (default: the mode set with mode()). */
  mode?: Mode;
}

export type EventKind = "page" | "view" | "dwell" | "scroll" | "search" | "click" | "cart" | "purchase";

/** An event for track(); view, dwell, click, cart and purchase need an item. */
export interface TrackEvent {
  kind: EventKind;
  item?: ItemRef;
  /** Visible milliseconds, for dwell (counted from 2 s). */
  dwell?: number;
  /** Percent of the page read, for scroll (counted from 50). */
  scroll?: number;
  /** The search, for search. */
  query?: string;
}

/** The detail of the "tailor:ranked" event dispatched on document after every ranking. */
export interface RankedDetail {
  /** The slot's name (data-tailor-slot, or RankOptions.slot). */
  slot: string;
  items: Ranked[];
  arm: Arm;
  /** The model version that ranked; 0 without a model. */
  version: number;
  /** The slot's element, for slots of the page. */
  element?: Element;
}

/** One remembered item, interest or fact, with its weight and last time. */
export interface ProfileEntry {
  weight: number;
  /** ISO 8601. */
  time: string;
}

/** What the device believes about its visitor, readable by the visitor. */
export interface Profile {
  mode: Mode;
  /** The model version held; 0 without a model. */
  model: number;
  privacy: Privacy;
  /** Where the profile is kept: IndexedDB, or this page's memory only. */
  storage: "indexeddb" | "memory";
  /** Whether profile deltas are synced (privacy mode, consent and Global Privacy Control allow it). */
  sync: boolean;
  // The rest is absent when Tailor is not running.
  visits?: number;
  lastSeen?: string | null;
  /** In the holdout arm: shown the site's own order, to measure uplift. */
  holdout?: boolean;
  /** This visit's items, in order. */
  session?: (ProfileEntry & { item: string; name?: string })[];
  /** Items of earlier visits, fading. */
  history?: (ProfileEntry & { item: string; name?: string })[];
  /** This visit's interests (attributes of its items, search terms). */
  interests?: (ProfileEntry & { kind: "category" | "tag" | "price band" | "search"; value: string })[];
  /** Interests of earlier visits, each visit weighing at most 1, fading. */
  lasting?: (ProfileEntry & { kind: "category" | "tag" | "price band" | "search"; value: string })[];
  /** What the site's rules test, e.g. "viewed.category=shoes". */
  facts?: (ProfileEntry & { fact: string })[];
  purchases?: (ProfileEntry & { item: string; name?: string; category: string })[];
  /** This visitor's own moves from item to item. */
  transitions?: (ProfileEntry & { from: string; to: string })[];
  /** Attributes the site declared with set(). */
  attributes?: Record<string, string>;
  /** Items recently shown in slots, and those then clicked. */
  shown?: string[];
  clicked?: string[];
  /** What the next sync would report (never raw events): items, and how many transitions. */
  pending?: { items: string[]; transitions: number };
  /**
   * In federated+ldp mode: the local differential privacy budget. Each delta
   * spends `epsilon`; the device spends at most `budget` per UTC day and has
   * spent `spent` today; past the budget it sends nothing until the next day.
   */
  ldp?: { epsilon: number; budget: number; spent: number };
}

/** Options of start() (the script tag's data attributes, for the ES module). */
export interface StartOptions {
  /** The site key (data-site). */
  site: string;
  /** Tailor's server, for /v1/model and /v1/sync; the script's (module's) own origin by default. */
  origin?: string;
  /** The anti-flicker bound in ms (data-tailor-timeout, default 300). */
  timeout?: number | string;
  /** "required" (data-consent): keep everything in memory and send nothing until consent(true). */
  consent?: "required" | string;
  /** The privacy mode when no model can be fetched (data-privacy, default "local"). */
  privacy?: Privacy | string;
  /** The exploration share when no model can be fetched (data-explore, default 0). */
  explore?: number | string;
  /** The LDP budget when no model can be fetched and privacy is federated+ldp (data-epsilon, default 1). */
  epsilon?: number | string;
  /** The site's own region code, for rules (data-region). */
  region?: string;
  /** Where tailor.wasm is, instead of the manifest's asset URL or ORIGIN/tailor.wasm (data-wasm). */
  wasm?: string;
  /** Log what fails to the console (data-debug). */
  debug?: boolean;
}

/** A product the page shows, as tailor.scan() read it. */
export interface ScannedProduct {
  /**
   * The SKU when the markup names one (JSON-LD or microdata sku, data-sku,
   * "sku" in a tile's JSON); else the product's URL path (canonical URL,
   * tile link; a product named in the query keeps that parameter); else
   * another id of the markup (data-product-id, a hidden product input, a
   * price element's id). At most its last 64 characters.
   */
  id: string;
  name?: string;
  price?: number;
  category?: string;
}

/** What tailor.scan() finds on a page that carries no Tailor markup. */
export interface Scan {
  /** The product of a product page: JSON-LD Product (also in @graph, mainEntity), microdata, the dataLayer (UA detail, GA4 view_item), OpenGraph; null elsewhere. */
  main: ScannedProduct | null;
  /** The product tiles of the page's grids, without the main product, each once. */
  items: ScannedProduct[];
  /** Each grid, in page order: a CSS selector of its tiles ("#list > li"), and how many it holds. */
  grids: { selector: string; count: number }[];
  /** The ecommerce events already in the dataLayer (GA4 view_item, add_to_cart, purchase; UA detail, click, add, purchase). */
  events: { kind: "view" | "click" | "cart" | "purchase"; item: string }[];
}

/** A call queued before the script loads: window.tailor = window.tailor || []; tailor.push([...]). */
export type QueuedCall = [keyof Tailor, ...unknown[]] | ((t: Tailor) => void);

export interface Tailor {
  /** Resolves once Tailor has started and filled the page's slots, or failed (it never rejects). */
  readonly ready: Promise<Tailor>;
  /** Orders items for the visitor; the result carries each item's score, source, reason and ref. */
  rank<T extends ItemRef>(items: T[], opts?: RankOptions): Promise<Ranked<T>[]>;
  /** Tracks an event; click, cart and purchase re-rank the page's slots. */
  track(event: TrackEvent): void;
  /** Declares visitor attributes (kept on the device, for rules); an empty value or null removes one. */
  set(attributes: Record<string, string | number | boolean | null>): void;
  /** The reason of an item's place in its last ranking, as a sentence ("Because you viewed …"); "" when none. */
  explain(id: string): string;
  /** What the device believes about its visitor. */
  profile(): Promise<Profile>;
  /** Wipes the visitor's profile from the device and its storage, and sets the mode back to "ai". */
  forget(): Promise<void>;
  /** Grants or withdraws consent to store and sync (withdrawing deletes what is stored). */
  consent(granted: boolean): void;
  /** Sets the ranking mode (kept across pages until forget) and returns the mode in force; without an argument, only returns it. */
  mode(m?: Mode): Mode;
  /**
   * Reads the page as it is (never rejects; a few ms): its main product, product tiles and grids.
   * The scanner is in a chunk loaded on first use (ORIGIN/assets/tailor-extra.HASH.js), hence a
   * promise; it resolves once Tailor has started, empty when the chunk cannot load.
   */
  scan(): Promise<Scan>;
  /** Runs a queued call. */
  push(call: QueuedCall): void;
}

export declare const tailor: Tailor;
export default tailor;

/** Starts Tailor (the ES module only; the script tag starts itself). */
export declare function start(opts: StartOptions): Promise<Tailor>;

export declare const ready: Tailor["ready"];
export declare const rank: Tailor["rank"];
export declare const track: Tailor["track"];
export declare const set: Tailor["set"];
export declare const explain: Tailor["explain"];
export declare const profile: Tailor["profile"];
export declare const forget: Tailor["forget"];
export declare const consent: Tailor["consent"];
export declare const mode: Tailor["mode"];
export declare const scan: Tailor["scan"];

declare global {
  interface Window {
    /** The API once tailor.js has run; before, a queue of calls. */
    tailor?: Tailor | QueuedCall[];
    dataLayer?: unknown[];
  }
  interface DocumentEventMap {
    "tailor:ranked": CustomEvent<RankedDetail>;
  }
}
