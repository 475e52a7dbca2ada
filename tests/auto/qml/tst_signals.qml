// SPDX-License-Identifier: Apache-2.0
// Remote signals in QML (docs/SIGNALS.md): `Connections { target: stub.events }` subscribes,
// events arrive in order with their arguments (a gadget among them), and taking the
// Connections' target away unsubscribes on the server.
import QtQuick
import QtTest
import Tomato.Rpc

TestCase {
    id: test
    name: "Signals"

    RpcClient { id: rpc; address: serverAddress }
    Stub { id: ticker; client: rpc; service: "Test::SignalService" }
    Stub { id: plain; client: rpc; service: "Test::TestService" } // registered without signals

    property var received: []
    Connections {
        id: listener
        target: ticker.events
        function onTicked(n, text, tick) { test.received.push([n, text, tick.n, tick.from]) }
    }

    function test_1_eventsArriveInOrderWithTheirArguments() {
        verify(ticker.events !== null)
        compare(plain.events, null)
        tryVerify(function() { return server.subscriptions() === 1 }, 10000, "subscribed on the server")
        server.fire(3, "from qml")
        tryVerify(function() { return test.received.length === 3 }, 10000, "three events")
        compare(test.received[0], [1, "from qml", 1, "qml"])
        compare(test.received[2], [3, "from qml", 3, "qml"])
    }

    function test_2_aCallAndAnEventTogether() {
        test.received = []
        var done = false
        ticker.fire(2, "by call").then(function(count) { done = count === 2 })
        tryVerify(function() { return done && test.received.length === 2 }, 10000)
        compare(test.received[1], [2, "by call", 2, "qml"])
    }

    function test_3_noReceiverNoSubscription() {
        listener.target = null
        tryVerify(function() { return server.subscriptions() === 0 }, 10000, "unsubscribed on the server")
        listener.target = Qt.binding(function() { return ticker.events })
        tryVerify(function() { return server.subscriptions() === 1 }, 10000, "subscribed again")
    }
}
