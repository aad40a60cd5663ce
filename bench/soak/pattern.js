// The bytes of /large responses: byte i of a body is i % 251, so any loss, duplication or
// reordering shows. PATTERN holds whole periods, so consecutive copies continue the sequence.
const PERIOD = 251;
const PATTERN = Buffer.from(Array.from({ length: PERIOD * 256 }, (_, i) => i % PERIOD));

/** A body sink that checks each byte against the pattern as it streams in. */
function patternChecker() {
  let offset = 0;
  let badAt = -1;
  return {
    write(chunk) {
      for (let i = 0; i < chunk.length && badAt === -1; i++) {
        if (chunk[i] !== (offset + i) % PERIOD) badAt = offset + i;
      }
      offset += chunk.length;
    },
    result: () => ({ length: offset, badAt }),
  };
}

module.exports = { PATTERN, patternChecker };
