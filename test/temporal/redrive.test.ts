import proto, { type temporal as protos } from '@temporalio/proto';

// Node's ESM loader sees only the default export of this CommonJS package.
const { temporal } = proto;
import { describe, expect, it } from 'vitest';
import { videoResetPoint } from '../../src/temporal/client/redrive.js';

const { EventType } = temporal.api.enums.v1;
type Event = protos.api.history.v1.IHistoryEvent;

/** A history written by hand: each step's workflow task completes the event before it. */
function history(steps: Array<['schedule' | 'local', string] | ['complete' | 'fail' | 'timeout', number] | ['timer']>): Event[] {
  const events: Event[] = [];
  // protobufjs reads a plain number for an int64.
  const add = (event: Omit<Event, 'eventId'>) => events.push({ ...event, eventId: (events.length + 1) as unknown as Event['eventId'] });
  add({ eventType: EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED });
  const task = () => {
    add({ eventType: EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED });
    return events.length;
  };
  for (const step of steps) {
    if (step[0] === 'schedule') {
      const completed = task();
      add({ eventType: EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED, activityTaskScheduledEventAttributes: { activityType: { name: step[1] }, workflowTaskCompletedEventId: completed } as never });
    } else if (step[0] === 'local') {
      // A local activity: a marker in the workflow task that ran it, its type in the marker's JSON data.
      const completed = task();
      const data = new TextEncoder().encode(JSON.stringify({ seq: 1, attempt: 1, activity_id: '1', activity_type: step[1] }));
      add({
        eventType: EventType.EVENT_TYPE_MARKER_RECORDED,
        markerRecordedEventAttributes: { markerName: 'core_local_activity', workflowTaskCompletedEventId: completed, details: { data: { payloads: [{ data }] } } } as never,
      });
    } else if (step[0] === 'timer') {
      const completed = task();
      add({ eventType: EventType.EVENT_TYPE_TIMER_STARTED, timerStartedEventAttributes: { workflowTaskCompletedEventId: completed } as never });
    } else if (step[0] === 'complete') {
      add({ eventType: EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED, activityTaskCompletedEventAttributes: { scheduledEventId: step[1] } as never });
    } else if (step[0] === 'fail') {
      add({ eventType: EventType.EVENT_TYPE_ACTIVITY_TASK_FAILED, activityTaskFailedEventAttributes: { scheduledEventId: step[1] } as never });
    } else {
      add({ eventType: EventType.EVENT_TYPE_ACTIVITY_TASK_TIMED_OUT, activityTaskTimedOutEventAttributes: { scheduledEventId: step[1] } as never });
    }
  }
  return events;
}

// Event ids: 3 prepareImage scheduled (task 2), 4 completed, 6 submitGeneration scheduled (task 5), 7 completed,
// 9 keepChatAction scheduled (task 8), 11 timer (task 10), 13 pollPrediction scheduled (task 12).
const submitted: Parameters<typeof history>[0] = [['schedule', 'prepareImage'], ['complete', 3], ['schedule', 'submitGeneration'], ['complete', 6]];

describe('videoResetPoint', () => {
  it('picks the workflow task that scheduled the first failed step', () => {
    const events = history([...submitted, ['schedule', 'sendVideo'], ['fail', 9]]);
    expect(videoResetPoint(events, undefined)).toEqual({ eventId: 8, step: 'sendVideo' });
    expect(videoResetPoint(history([['schedule', 'prepareImage'], ['timeout', 3]]), 'bad-image')).toEqual({ eventId: 2, step: 'prepareImage' });
  });

  it('looks past the chat action and polls, which fail without failing the request', () => {
    const events = history([...submitted, ['schedule', 'keepChatAction'], ['timer'], ['schedule', 'pollPrediction'], ['fail', 13], ['fail', 9]]);
    expect(videoResetPoint(events, 'deadline')).toEqual({ eventId: 10, step: 'wait for WaveSpeed' });
    expect(videoResetPoint(events, 'generation-failed')).toEqual({ eventId: 5, step: 'submitGeneration' });
    expect(videoResetPoint(events, 'nsfw')).toEqual({ eventId: 5, step: 'submitGeneration' });
    expect(videoResetPoint(events, 'cancelled')).toBeUndefined();
  });

  it('moves a reset that would submit again back to the permit request, so the new run holds a permit of the fleet cap', () => {
    // 3 prepareImage (task 2), 4 completed, 6 requestPermit (task 5), 7 completed, 9 submitGeneration (task 8), 10 failed.
    const permitted: Parameters<typeof history>[0] = [['schedule', 'prepareImage'], ['complete', 3], ['schedule', 'requestPermit'], ['complete', 6]];
    const failedSubmit = history([...permitted, ['schedule', 'submitGeneration'], ['fail', 9]]);
    expect(videoResetPoint(failedSubmit, undefined)).toEqual({ eventId: 5, step: 'submitGeneration (after a new WaveSpeed permit)' });
    // WaveSpeed's generation failed: submitting again needs a permit too.
    const generationFailed = history([...permitted, ['schedule', 'submitGeneration'], ['complete', 9], ['timer']]);
    expect(videoResetPoint(generationFailed, 'generation-failed')).toEqual({ eventId: 5, step: 'submitGeneration (after a new WaveSpeed permit)' });
    // After the submission completed nothing is submitted again: the point stays.
    const sendFailed = history([...permitted, ['schedule', 'submitGeneration'], ['complete', 9], ['schedule', 'sendVideo'], ['fail', 12]]);
    expect(videoResetPoint(sendFailed, undefined)).toEqual({ eventId: 11, step: 'sendVideo' });
    expect(videoResetPoint(generationFailed, 'deadline')).toEqual({ eventId: 11, step: 'wait for WaveSpeed' });
    // The permit asked as a local activity (a marker, 6 in task 5) moves the point back alike.
    const local = history([['schedule', 'prepareImage'], ['complete', 3], ['local', 'requestPermit'], ['schedule', 'submitGeneration'], ['fail', 8]]);
    expect(videoResetPoint(local, undefined)).toEqual({ eventId: 5, step: 'submitGeneration (after a new WaveSpeed permit)' });
    // Before the permit request: the new run asks for one anyway.
    expect(videoResetPoint(history([['schedule', 'prepareImage'], ['fail', 3]]), undefined)).toEqual({ eventId: 2, step: 'prepareImage' });
  });
});
