// The ASCII mascot shown beside the menu. Our own drawings, plain ASCII so they
// line up in every terminal font.

export const MASCOT_NAMES = ["none", "cat", "dog", "penguin", "bear", "ghost"] as const;
export type MascotName = (typeof MASCOT_NAMES)[number];

const ART: Record<Exclude<MascotName, "none">, string[]> = {
  cat: [
    "   |\\      /|",
    "   | \\____/ |",
    "   |  o  o  |",
    "  =\\   ^^   /=",
    "    \\ '--' /",
    "   _/      \\_",
    "  (__)-||-(__)",
  ],
  dog: [
    "   ___      ___",
    "  (   \\____/   )",
    "   \\_/ o  o \\_/",
    "     |  __  |",
    "     | (__) |",
    "      \\ \\/ /",
    "       '--'",
  ],
  penguin: [
    "     .---.",
    "    / o o \\",
    "   |  \\_/  |",
    "   /|     |\\",
    "  / |     | \\",
    "    \\_____/",
    "    _/   \\_",
  ],
  bear: [
    '   (")   (")',
    "   /  ---  \\",
    "  |  o   o  |",
    "  |   (_)   |",
    "   \\  \\_/  /",
    "    '-----'",
    "   /|     |\\",
  ],
  ghost: [
    "    .-----.",
    "   /       \\",
    "  |  O   O  |",
    "  |    o    |",
    "  |         |",
    "  |  .   .  |",
    "  |/\\/\\ /\\/\\|",
  ],
};

/** The mascot's lines (empty for "none"). */
export function mascot(name: MascotName): string[] {
  return name === "none" ? [] : ART[name];
}
