// A scroll box that follows what is added to its end, unless the reader scrolled up: then a
// "new … ↓" marker appears and takes them back down. Images that finish loading after they
// were added (a plot) keep a following box at the bottom, so the next output is in view too.

export class Follow {
  private following = true;
  private lastTop = 0;

  constructor(
    private readonly box: HTMLElement,
    private readonly marker: HTMLButtonElement,
    /** Told whenever something arrived that the reader has not seen (for tab badges). */
    private readonly onUnseen: () => void = () => {},
  ) {
    marker.hidden = true;
    box.addEventListener("scroll", () => this.scrolled(), { passive: true });
    // "load" does not bubble; in the capture phase the box hears its images finish.
    box.addEventListener("load", () => this.settle(), true);
    marker.addEventListener("click", () => this.jump());
    // A box that was hidden (a closed tab) or resized keeps its place at the bottom.
    new ResizeObserver(() => this.settle()).observe(box);
  }

  /** Whether the box is showing its end. */
  get atEnd(): boolean {
    return this.box.scrollHeight - this.box.scrollTop - this.box.clientHeight < 24;
  }

  /** Call after adding content at the end. */
  added(): void {
    if (this.following) this.toEnd();
    else this.marker.hidden = false;
    if (!this.following || this.box.offsetParent === null) this.onUnseen();
  }

  /** Follow again and go to the end (the marker, or a newly selected tab). */
  jump(): void {
    this.following = true;
    this.toEnd();
  }

  private settle(): void {
    if (this.following) this.toEnd();
  }

  private toEnd(): void {
    this.box.scrollTop = this.box.scrollHeight;
    this.lastTop = this.box.scrollTop;
    this.marker.hidden = true;
  }

  private scrolled(): void {
    const top = this.box.scrollTop;
    if (this.atEnd) {
      this.following = true;
      this.marker.hidden = true;
    } else if (top < this.lastTop - 2) {
      this.following = false; // the reader scrolled up: leave them there
    }
    this.lastTop = top;
  }
}
