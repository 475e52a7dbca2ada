// SPDX-License-Identifier: Apache-2.0
// Calls from QML against a real server (tst_qmlrpc.cpp starts it): every marshalled type
// comes back, failures reject with code, type and message, wrong arguments and timeouts
// reject, and a service's methods are learnt from the server when not registered.
import QtQuick
import QtTest
import Tomato.Rpc

TestCase {
    id: test
    name: "Calls"

    RpcClient { id: rpc; address: serverAddress }
    Stub { id: service; client: rpc; service: "Test::TestService" }
    Stub { id: introspection; client: rpc; service: "Tomato::Introspection" }
    Stub { id: nowhere; client: rpc; service: "Test::UnpublishedService" }

    // Runs `promise` to its end; returns {value} or {error}.
    function settle(promise) {
        var outcome = {done: false}
        promise.then(function(v) { outcome.value = v; outcome.done = true },
                     function(e) { outcome.error = e; outcome.done = true })
        tryVerify(function() { return outcome.done }, 10000, "the promise settled")
        return outcome
    }
    function value(promise) {
        var o = settle(promise)
        verify(o.error === undefined, o.error ? o.error.code + " " + o.error.message : "")
        return o.value
    }
    function failure(promise) {
        var o = settle(promise)
        verify(o.error !== undefined, "rejected")
        return o.error
    }

    function test_registeredMethodsAreFunctionsAtOnce() {
        verify(service.ready)
        verify(service.methods.indexOf("roundTrip") >= 0)
        compare(typeof service.echo, "function")
    }

    function test_everyMarshalledTypeComesBack() {
        compare(value(service.echo("tomato")), "tomato")
        compare(value(service.add(2, 3)), 5)
        compare(value(service.bytes("aGVsbG8=")), "aGVsbG8=")          // QByteArray: base64
        compare(value(service.next("Red")), "Green")                     // a Q_ENUM, by name
        compare(value(service.touch()), undefined)                       // void
        var items = value(service.items(3))                              // QList of gadgets
        compare(items.length, 3)
        compare(items[2].name, "item2")
        compare(items[2].count, 2)
        var map = value(service.mapEcho({a: 1, b: "two", c: [1, 2], d: {e: true}}))
        compare(map.b, "two")
        compare(map.c[1], 2)
        compare(map.d.e, true)
        var record = {
            flag: true, big: 9007199254740991, small: 200, ratio: 0.25, text: "héllo",
            blob: "AAEC", when: "2026-12-03T10:11:12.345Z", id: "6f1c8a52-7b55-4f34-9a0e-2b8f3f0d9c11",
            tags: ["x", "y"], items: [{name: "n", count: 4}], byName: {k: {name: "m", count: 5}},
            counts: {one: 1}, extra: {any: "thing"}
        }
        var back = value(service.roundTrip(record))                       // a gadget of every kind
        compare(back.flag, true)
        compare(back.big, 9007199254740991)
        compare(back.small, 200)
        compare(back.ratio, 0.25)
        compare(back.text, "héllo")
        compare(back.blob, "AAEC")
        compare(back.when, "2026-12-03T10:11:12.345Z")
        compare(back.id, "6f1c8a52-7b55-4f34-9a0e-2b8f3f0d9c11")
        compare(back.tags, ["x", "y"])
        compare(back.items[0].count, 4)
        compare(back.byName.k.name, "m")
        compare(back.counts.one, 1)
        compare(back.extra.any, "thing")
        // A JavaScript Date for a QDateTime
        compare(value(service.roundTrip(Object.assign({}, record, {when: new Date(Date.UTC(2026, 0, 2))}))).when,
                "2026-01-02T00:00:00.000Z")
    }

    function test_failuresRejectWithCodeTypeAndMessage() {
        var e = failure(service.throwRuntimeError("no tomatoes"))
        compare(e.code, 205)
        compare(e.codeName, "ApplicationException")
        compare(e.type, "std::runtime_error")
        compare(e.message, "no tomatoes")
        verify(e instanceof Error)
        e = failure(service.call("noSuchMethod", []))
        compare(e.code, 201)
        compare(e.type, "UnknownMethod")
        e = failure(nowhere.call("anything", []))
        compare(e.code, 200)
    }

    function test_wrongArgumentsRejectNamingTheArgument() {
        var e = failure(service.echo(5))
        compare(e.code, 202)
        verify(e.message.indexOf("argument 1 (text)") >= 0, e.message)
        verify(e.message.indexOf("must be a string") >= 0, e.message)
        e = failure(service.add(1, "two"))
        verify(e.message.indexOf("argument 2 (b)") >= 0, e.message)
        e = failure(service.add(1.5, 2))
        verify(e.message.indexOf("a whole number") >= 0, e.message)
        e = failure(service.add(1))
        verify(e.message.indexOf("takes 2 argument(s) (a, b), not 1") >= 0, e.message)
        e = failure(service.roundTrip([1, 2]))
        verify(e.message.indexOf("must be an object") >= 0, e.message)
    }

    function test_aTimeoutRejects() {
        var e = failure(service.waitAtGate("held", {timeout: 200}))
        verify(e.code === 100 || e.code === 207, e.code + " " + e.message) // Timeout or DeadlineExceeded
        gates.open("held")
    }

    function test_contextAndTraceIdTravel() {
        service.context = {user: "ada"}
        var info = value(service.callInfo({context: {screen: "main"}, traceId: "t-1"}))
        compare(info.context.user, "ada")
        compare(info.context.screen, "main")
        compare(info.traceId, "t-1")
        service.context = {}
    }

    function test_unregisteredServicesAreLearntFromTheServer() {
        tryVerify(function() { return introspection.ready }, 10000, "the methods were learnt")
        compare(typeof introspection.services, "function")
        var services = value(introspection.services())
        verify(services.some(function(s) { return s.service === "Test::TestService" }), JSON.stringify(services))
        compare(value(introspection.node()).version.split(".").length, 3)
    }
}
