/**
 * Text typed on a console, each piece after the next prompt: what `run --send` types on
 * memvisor's serial console and what the QEMU oracle types on QEMU's. It keeps the texts
 * still to type and `consumed`, how far into the console output earlier texts answered;
 * a prompt counts only if it appears after that point, so one prompt is answered once.
 */
export class PromptedInput {
  private readonly texts: string[];
  /** Console output before this index has been answered (saved in snapshots). */
  consumed = 0;

  /**
   * `restored`: the console history and `consumed` of a restored snapshot. The prompt the
   * guest is waiting at (the last one in the history) is open again, unless the original
   * run already answered it.
   */
  constructor(texts: readonly string[], private readonly prompt: RegExp | undefined, restored?: { history: string; consumed?: number }) {
    this.texts = [...texts];
    if (restored?.history && prompt) {
      let lastPrompt = 0;
      for (const m of restored.history.matchAll(new RegExp(prompt.source, `${prompt.flags.replace('g', '')}g`))) lastPrompt = m.index;
      this.consumed = Math.max(restored.consumed ?? 0, lastPrompt);
    }
  }

  /** The next text to type if `output` (the whole console so far) shows a prompt not yet answered; else null. */
  next(output: string): string | null {
    if (this.texts.length === 0 || !this.prompt) return null;
    const m = this.prompt.exec(output.slice(this.consumed));
    if (!m) return null;
    this.consumed += m.index + m[0].length;
    return this.texts.shift()!;
  }
}
