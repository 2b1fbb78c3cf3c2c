import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { callEndText, callFailureText, disconnectedText, formatDuration, registrationFailureText } from './messages.js';

const server = 'wss://localhost:8443/sip';

describe('sentences of the phone page', () => {
  it('registration: wrong password, no connection, blocked', () => {
    assert.equal(registrationFailureText({ cause: 'Authentication Error', status: 401 }, server), 'Wrong username or password.');
    assert.match(registrationFailureText({ cause: 'Connection Error' }, server), /^Cannot reach the server at wss:\/\/localhost:8443\/sip\b/);
    assert.match(registrationFailureText({ cause: 'Rejected', status: 403 }, server), /refused.*wait a few minutes/i);
  });

  it('calls: the status code decides before the cause', () => {
    assert.equal(callFailureText({ cause: 'Busy', status: 486, originator: 'remote' }, 'bob'), 'bob is busy.');
    assert.match(callFailureText({ cause: 'Unavailable', status: 480, originator: 'remote' }, 'bob'), /^bob is not reachable right now\b/);
    assert.equal(callFailureText({ cause: 'Not Found', status: 404, originator: 'remote' }, 'zed'), 'There is no user zed here.');
    assert.equal(callFailureText({ cause: 'Rejected', status: 603, originator: 'remote' }, 'bob'), 'bob declined the call.');
    // JsSIP maps 408 to Unavailable; a person hears "did not answer in time"
    assert.equal(callFailureText({ cause: 'Unavailable', status: 408, originator: 'remote' }, 'bob'), 'bob did not answer in time.');
  });

  it('calls without a response: cancelled here or there, no media permission, lost connection', () => {
    assert.equal(callFailureText({ cause: 'Canceled', originator: 'local' }, 'bob'), 'Call cancelled.');
    assert.equal(callFailureText({ cause: 'Canceled', originator: 'remote' }, 'alice'), 'alice stopped calling.');
    assert.equal(callFailureText({ cause: 'Rejected', originator: 'local' }, 'alice'), 'Call rejected.');
    assert.match(callFailureText({ cause: 'User Denied Media Access', originator: 'local' }, 'bob'), /camera and microphone/);
    assert.match(callFailureText({ cause: 'Connection Error', originator: 'system' }, 'bob'), /connection to the server/);
    assert.equal(callFailureText({ cause: 'Something New' }, 'bob'), 'The call failed: Something New.');
  });

  it('the end of a call says who hung up', () => {
    assert.equal(callEndText({ cause: 'Terminated', originator: 'remote' }, 'bob'), 'bob hung up.');
    assert.equal(callEndText({ cause: 'Terminated', originator: 'local' }, 'bob'), 'You hung up.');
    assert.match(callEndText({ cause: 'RTP Timeout', originator: 'system' }, 'bob'), /stopped arriving/);
  });

  it('a closed WebSocket names the server', () => {
    assert.match(disconnectedText(server), /^Cannot reach the server at wss:\/\/localhost:8443\/sip\./);
    assert.match(disconnectedText(server, 1011), /close code 1011/);
  });

  it('durations', () => {
    assert.equal(formatDuration(0), '0:00');
    assert.equal(formatDuration(61.9), '1:01');
    assert.equal(formatDuration(3600), '60:00');
  });
});
