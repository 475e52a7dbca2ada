// SPDX-License-Identifier: Apache-2.0
// A chat window (docs/SIGNALS.md): finds the room in ZooKeeper, posts with room.send() and
// shows what the room's remote signal messagePosted brings, its own messages included.
pragma ComponentBehavior: Bound
import QtQuick
import QtQuick.Controls
import QtQuick.Layouts
import Tomato.Rpc

ApplicationWindow {
    id: window
    required property string registry // zookeeper://host:port
    required property string server   // tcp://host:port: this room server instead of the registry's
    required property string stage    // empty: the configuration's
    required property string group
    required property string name     // who writes here
    required property var script      // texts to send once the subscription is live
    required property int expect      // --expect: messages to show before `finished`
    required property QtObject session // C++ (main.cpp): live, instance, shown(), failed(), finish()

    property int pending: 0               // sends not settled yet
    property bool scriptStarted: false
    property bool scriptDone: false       // every --say text sent
    property int messageCount: 0          // messages shown (not notices)
    property string sendError: ""         // the last send() that failed
    property string subscriptionError: "" // an instance ended the subscription
    property string historyError: ""      // the last history() that failed
    readonly property string lastError: sendError || subscriptionError || historyError
    property var seen: ({})               // what is shown already, by messageKey()
    readonly property bool finished: scriptDone && pending === 0 && messageCount >= expect
    readonly property bool showsNewest: list.count === messages.count && (list.atYEnd || !list.followEnd)
    readonly property string connectionError: rpc.errorString || room.errorString
    readonly property string statusText: connectionError ? "error: " + connectionError
        : session.live ? "live · chat-room-service" + (stage ? " (" + stage + (group ? "/" + group : "") + ")" : "")
                         + " on " + session.instance
        : server ? "connecting to " + server + "…"
        : "looking for chat-room-service in " + registry + "…"

    width: 480
    height: 540
    visible: true
    color: "#ffffff"
    title: "Tomato chat — " + name

    RpcClient {
        id: rpc
        address: window.server
        registry: window.server ? "" : window.registry
        stage: window.stage
        group: window.group
        timeout: 5000
    }
    Stub { id: room; client: rpc; service: "Chat::RoomService" }

    // The remote signal: connecting to it subscribes (on every instance the registry lists).
    Connections {
        target: room.events
        function onMessagePosted(message) { window.addMessage(message) }
    }
    Connections {
        target: room
        function onEventsMayHaveBeenMissed(instance, signal) {
            window.addNotice("Reconnected to " + instance + ": events may have been missed, history reloaded")
            window.loadHistory()
        }
        function onSubscriptionEnded(instance, signal, code, message) {
            window.addNotice(instance + " ended the subscription (" + code + "): " + message)
            window.subscriptionError = "no more messages from " + instance + " (" + code + "): " + message
        }
    }
    // A configuration that cannot work (a registry scheme nobody knows, ...): a scripted run fails.
    Connections {
        target: rpc
        function onErrorStringChanged() { if (rpc.errorString) window.session.failed(rpc.errorString) }
    }
    // When the subscription is live: the Stub says so (subscribed), per room server.
    Component.onCompleted: loadHistory() // over --server at once; over a registry usually NoProvider until it lists the room
    Connections {
        target: room
        function onSubscribed(instance, signal) { window.session.joined(instance) }
        function onSubscriptionEnded(instance, signal, code, message) { window.session.left(instance) }
        function onEventsChanged() { window.session.reset() }
    }
    Connections {
        target: window.session
        function onLiveChanged() {
            if (!window.session.live)
                return
            // Subscribed (on one more instance): nothing posted from now on is missed, and
            // history() covers what was posted before.
            window.loadHistory()
            window.runScript()
        }
    }
    onFinishedChanged: if (finished) session.finish()

    ListModel { id: messages }

    // The same message may come twice (its event and a history() answer): shown once. Numbers
    // restart with a restarted room, hence the rest of the key.
    function messageKey(m, at) {
        return m.number + "\u0001" + m.author + "\u0001" + m.text + "\u0001" + Math.floor(at.getTime() / 1000)
    }

    function addMessage(m) {
        const at = new Date(m.at)
        const key = messageKey(m, at)
        if (seen[key])
            return
        seen[key] = true
        // In order of time, then number: history may answer after newer events.
        let row = messages.count
        while (row > 0) {
            const before = messages.get(row - 1)
            if (before.kind === "message" && (before.atMs < at.getTime()
                                              || (before.atMs === at.getTime() && before.number < m.number)))
                break
            if (before.kind === "notice")
                break
            --row
        }
        messages.insert(row, {kind: "message", number: m.number, author: m.author, text: m.text,
                              time: Qt.formatTime(at, "HH:mm"), atMs: at.getTime(), mine: m.author === name})
        messageCount++
        session.shown(m.number, m.author, m.text)
    }

    // Each author a colour of their own, the same in every window.
    function authorColour(author) {
        const colours = ["#3559a8", "#2e7d32", "#8e44ad", "#00838f", "#c0650a", "#ad1457"]
        let hash = 0
        for (let i = 0; i < author.length; ++i)
            hash = (hash * 31 + author.charCodeAt(i)) % 1000003
        return colours[hash % colours.length]
    }

    function addNotice(text) {
        messages.append({kind: "notice", number: 0, author: "", text: text, time: "", atMs: 0, mine: false})
    }

    function loadHistory() {
        room.history(50).then(function(list) {
            historyError = ""
            for (let i = 0; i < list.length; ++i)
                addMessage(list[i])
        }, function(error) {
            // Before the registry has listed the room (a moment after start) the status line
            // says we are still looking; loaded again once subscribed.
            if (error.codeName !== "NoProvider" || session.live)
                historyError = "history not loaded (" + error.codeName + "): " + error.message
        })
    }

    function post(text) {
        if (!text.trim())
            return Promise.resolve()
        pending++
        return room.send(name, text).then(function(number) {
            sendError = ""
            if (!session.live)
                loadHistory() // no event comes without a subscription: fetch our own message
        }, function(error) {
            sendError = "not sent (" + error.codeName + "): " + error.message
            session.failed(sendError)
        }).then(function() { pending-- })
    }

    function runScript() {
        if (scriptStarted)
            return
        scriptStarted = true
        let chain = Promise.resolve()
        for (let i = 0; i < script.length; ++i) {
            const text = script[i]
            chain = chain.then(function() { return window.post(text) })
        }
        chain.then(function() { window.scriptDone = true })
    }

    function sendTyped() {
        const text = input.text
        if (!text.trim())
            return
        input.clear()
        post(text)
    }

    header: Rectangle {
        implicitHeight: 64
        color: "#b83227"
        RowLayout {
            anchors.fill: parent
            anchors.leftMargin: 16
            anchors.rightMargin: 16
            spacing: 12
            Rectangle {
                implicitWidth: 40
                implicitHeight: 40
                radius: 20
                color: "#ffffff"
                opacity: 0.95
                Label {
                    anchors.centerIn: parent
                    text: window.name.charAt(0).toUpperCase()
                    font.pixelSize: 20
                    font.bold: true
                    color: "#b83227"
                }
            }
            ColumnLayout {
                Layout.fillWidth: true
                spacing: 2
                Label {
                    text: "Chat room · " + window.name
                    color: "white"
                    font.pixelSize: 17
                    font.bold: true
                }
                RowLayout {
                    spacing: 6
                    Layout.fillWidth: true
                    Rectangle {
                        implicitWidth: 9
                        implicitHeight: 9
                        radius: 4.5
                        color: window.connectionError ? "#ffb4a9" : window.session.live ? "#7ee08a" : "#ffd27f"
                    }
                    Label {
                        Layout.fillWidth: true
                        text: window.statusText
                        color: "#ffe9e6"
                        font.pixelSize: 12
                        elide: Text.ElideRight
                    }
                }
            }
        }
    }

    ColumnLayout {
        anchors.fill: parent
        spacing: 0

        Item {
            Layout.fillWidth: true
            Layout.fillHeight: true

            ListView {
                id: list
                // Margins outside the view: positionViewAtEnd() leaves out a bottomMargin, and a
                // header or footer component fails with ComponentBehavior: Bound in Qt 6.4.
                anchors.fill: parent
                anchors.topMargin: 9
                anchors.bottomMargin: 9
                clip: true
                model: messages
                // Stays at the newest message unless the reader scrolled up.
                property bool followEnd: true
                onMovementEnded: followEnd = atYEnd
                function toEnd() { if (followEnd) positionViewAtEnd() }
                onCountChanged: Qt.callLater(list.toEnd)
                onContentHeightChanged: Qt.callLater(list.toEnd)
                onHeightChanged: Qt.callLater(list.toEnd)
                ScrollBar.vertical: ScrollBar {}

                delegate: Item {
                    id: row
                    required property string kind
                    required property string author
                    required property string text
                    required property string time
                    required property bool mine
                    width: ListView.view.width
                    height: (kind === "notice" ? notice.implicitHeight + 8 : bubble.height) + 6 // 3 above, 3 below

                    Label {
                        id: notice
                        visible: row.kind === "notice"
                        anchors.horizontalCenter: parent.horizontalCenter
                        y: 7
                        width: parent.width - 48
                        horizontalAlignment: Text.AlignHCenter
                        wrapMode: Text.Wrap
                        text: row.text
                        color: "#8a6d3b"
                        font.pixelSize: 12
                        font.italic: true
                    }

                    Rectangle {
                        id: bubble
                        visible: row.kind === "message"
                        readonly property real maxWidth: row.width * 0.75
                        width: Math.min(maxWidth, Math.max(body.implicitWidth, who.implicitWidth + when.implicitWidth + 12) + 24)
                        height: content.implicitHeight + 16
                        x: row.mine ? row.width - width - 14 : 14
                        y: 3
                        radius: 12
                        color: row.mine ? "#d9483b" : "#eceef3"

                        Column {
                            id: content
                            x: 12
                            y: 8
                            width: bubble.width - 24
                            spacing: 2
                            Item {
                                width: parent.width
                                height: who.implicitHeight
                                Label {
                                    id: who
                                    text: row.mine ? "You" : row.author
                                    font.bold: true
                                    font.pixelSize: 13
                                    color: row.mine ? "#ffe1dd" : window.authorColour(row.author)
                                }
                                Label {
                                    id: when
                                    anchors.right: parent.right
                                    anchors.baseline: who.baseline
                                    text: row.time
                                    font.pixelSize: 11
                                    color: row.mine ? "#ffd0ca" : "#888888"
                                }
                            }
                            Label {
                                id: body
                                width: Math.min(implicitWidth, bubble.maxWidth - 24)
                                text: row.text
                                wrapMode: Text.Wrap
                                font.pixelSize: 15
                                color: row.mine ? "white" : "#1d1d1f"
                            }
                        }
                    }
                }
            }

            Label {
                anchors.centerIn: parent
                visible: messages.count === 0
                text: window.session.live ? "No messages yet: say hello." : "Joining the room…"
                color: "#999999"
                font.pixelSize: 14
            }
        }

        Rectangle {
            Layout.fillWidth: true
            visible: window.lastError !== ""
            implicitHeight: errorLabel.implicitHeight + 12
            color: "#fdecea"
            Label {
                id: errorLabel
                x: 16
                y: 6
                width: parent.width - 32
                text: window.lastError
                wrapMode: Text.Wrap
                color: "#a4161a"
            }
        }

        Rectangle {
            Layout.fillWidth: true
            implicitHeight: bar.implicitHeight + 20
            color: "#f6f6f8"
            border.color: "#e2e2e6"
            RowLayout {
                id: bar
                anchors.fill: parent
                anchors.margins: 10
                spacing: 8
                TextField {
                    id: input
                    Layout.fillWidth: true
                    placeholderText: "Message as " + window.name
                    font.pixelSize: 14
                    onAccepted: window.sendTyped()
                }
                Button {
                    text: "Send"
                    enabled: input.text.trim() !== ""
                    onClicked: window.sendTyped()
                }
            }
        }
    }
}
