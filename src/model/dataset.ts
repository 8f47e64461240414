// Labelled SMS files in the SMS Spam Collection format: one message a line, `<ham|spam>\t<text>`,
// UTF-8, no header. Every line is checked; a bad one is reported with its line number.
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';

export type Label = 'spam' | 'ham';

export interface LabelledMessage {
  label: Label;
  text: string;
}

export interface Dataset {
  messages: LabelledMessage[];
  /** sha256 of the file's bytes: ties an artifact to the exact data it was trained on. */
  sha256: string;
  source: string;
}

const labelSchema = z.enum(['spam', 'ham']);

export class DatasetError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DatasetError';
  }
}

export function parseLabelledText(text: string, source: string): LabelledMessage[] {
  const messages: LabelledMessage[] = [];
  const lines = text.split('\n');
  for (const [index, rawLine] of lines.entries()) {
    const line = rawLine.endsWith('\r') ? rawLine.slice(0, -1) : rawLine;
    if (line === '') continue;
    const tab = line.indexOf('\t');
    const where = `${source}:${index + 1}`;
    if (tab < 0) throw new DatasetError(`${where}: expected "<ham|spam><TAB><message>", found no tab`);
    const label = labelSchema.safeParse(line.slice(0, tab));
    if (!label.success) throw new DatasetError(`${where}: label must be "ham" or "spam", got ${JSON.stringify(line.slice(0, tab).slice(0, 20))}`);
    messages.push({ label: label.data, text: line.slice(tab + 1) });
  }
  if (messages.length === 0) throw new DatasetError(`${source}: no labelled messages`);
  return messages;
}

export async function readDataset(file: string): Promise<Dataset> {
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch (error) {
    throw new DatasetError(`cannot read labelled file ${file}: ${(error as Error).message}`);
  }
  return {
    messages: parseLabelledText(bytes.toString('utf8'), path.basename(file)),
    sha256: createHash('sha256').update(bytes).digest('hex'),
    source: file,
  };
}

/** Keeps the first copy of every exact (label, text) duplicate, in file order. */
export function deduplicate(messages: readonly LabelledMessage[]): LabelledMessage[] {
  const seen = new Set<string>();
  return messages.filter((message) => {
    const key = `${message.label}\t${message.text}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

const repositoryRoot = path.resolve(import.meta.dirname, '../..');

/** Where the shared SMS Spam Collection lives: SMS_DATA_DIR, else next to the repository. */
export function sharedDataDirectory(env: NodeJS.ProcessEnv = process.env): string {
  return env.SMS_DATA_DIR ?? path.resolve(repositoryRoot, '../shared/data/sms-spam-collection');
}

export function sharedTrainingFile(env: NodeJS.ProcessEnv = process.env): string {
  return path.join(sharedDataDirectory(env), 'SMSSpamCollection.train');
}
