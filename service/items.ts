/**
 * The demo API's data: items in an in-memory store. Bounded in size so that no sequence of requests can grow
 * the process without limit.
 */
import { z } from "zod";

export const newItemSchema = z.strictObject({
  name: z.string().trim().min(1).max(100),
  quantity: z.int().min(0).max(1_000_000),
});

export type NewItem = z.infer<typeof newItemSchema>;

export interface Item extends NewItem {
  readonly id: string;
  /** ISO 8601 timestamp of creation. */
  readonly createdAt: string;
}

export interface ItemPage {
  readonly items: readonly Item[];
  /** Items in the store, for paging past this page. */
  readonly total: number;
}

export class ItemStore {
  private readonly items = new Map<string, Item>();
  private nextId = 1;

  constructor(readonly capacity: number) {}

  get size(): number {
    return this.items.size;
  }

  get isFull(): boolean {
    return this.items.size >= this.capacity;
  }

  /** Stores a new item; the caller checks `isFull` first. */
  add(fields: NewItem, now: Date): Item {
    if (this.isFull) throw new Error(`the item store is full (${this.capacity} items)`);
    const item: Item = { id: String(this.nextId++), ...fields, createdAt: now.toISOString() };
    this.items.set(item.id, item);
    return item;
  }

  get(id: string): Item | undefined {
    return this.items.get(id);
  }

  delete(id: string): boolean {
    return this.items.delete(id);
  }

  /** Items in creation order, `limit` of them after skipping `offset`. */
  page(offset: number, limit: number): ItemPage {
    const items: Item[] = [];
    let index = 0;
    for (const item of this.items.values()) {
      if (items.length === limit) break;
      if (index++ >= offset) items.push(item);
    }
    return { items, total: this.items.size };
  }
}
