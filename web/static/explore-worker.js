// Explores a scenario's schedules away from the page's thread, with the JavaScript module (api/), so
// that the playground stays responsive while it runs. The page posts { id, scenario, maxStates }; the
// answer is { id, ok, ... } with every outcome in words, its count, and a share link that replays its
// shortest schedule and opens where it goes wrong (or { id, ok: false, error }). On the way it posts
// { id, progress: { states, steps, depth } }, at most four times a second. The page stops an
// exploration by ending the worker. It explores with sleep sets, as `ipclab explore`
// does by default: every outcome is found, and the counts are of classes of schedules (`counts`).
import init, { explore, encodeShareLink } from './api/ipclab.js';

const ready = init();

const ends = (outcome) => {
  if (outcome.ending !== 'all-exited') return outcome.ending.replace(/-/g, ' ');
  if (outcome.holds) return 'every process exits and every expectation holds';
  return 'an expectation fails';
};

const describe = (outcome) => {
  const processes = outcome.processes.map((process) => `${process.name} ${process.end}`).join(', ');
  const failed = outcome.failures.length ? `; failed: ${outcome.failures.join('; ')}` : '';
  return `${ends(outcome)} (${processes})${failed}`;
};

// A verdict that the schedules explored do not settle (the exploration was cut at its limit of states,
// or some schedules at the depth limit) says only what they show.
const settledWords = (verdict) => {
  if (verdict.settled) return verdict.holds ? 'holds' : 'refuted';
  return verdict.holds ? 'not refuted by the schedules explored, which are not all of them'
    : 'not seen in the schedules explored, which are not all of them';
};

self.onmessage = async (event) => {
  const { id, scenario, maxStates } = event.data;
  try {
    await ready;
    let last = 0;
    const onProgress = ({ states, steps, depth }) => {
      const now = Date.now();
      if (now - last < 250) return;
      last = now;
      self.postMessage({ id, progress: { states, steps, depth } });
    };
    const found = explore(scenario, { maxStates, reduction: 'sleep', onProgress });
    self.postMessage({
      id,
      ok: true,
      holds: found.holds,
      schedules: found.schedules,
      counts: found.counts,
      states: found.states,
      incomplete: found.incomplete || '',
      outcomes: found.outcomes.map((outcome) => ({
        words: describe(outcome),
        holds: outcome.holds && outcome.ending === 'all-exited',
        schedules: outcome.schedules,
        steps: outcome.shortest.length,
        link: encodeShareLink({
          scenario, seed: 0, policy: 'round-robin', choices: outcome.shortest, step: outcome.firstBadStep,
        }),
      })),
      declared: found.declared.map((verdict) => ({
        words: `${verdict.title}: ${settledWords(verdict)} (${verdict.witnesses} with it, ${verdict.others} without)`,
        holds: verdict.holds,
        settled: verdict.settled,
      })),
    });
  } catch (error) {
    self.postMessage({ id, ok: false, error: String((error && error.message) || error) });
  }
};
