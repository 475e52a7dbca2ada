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
    required property string stage    // empty: the configuration's
    required property string group
    required property string name     // who writes here
    required property var script      // texts to send once the subscription is live
    required property int expect      // --expect: messages to show before `finished`
    required property QtObject session // C++ (main.cpp): live, instance, shown(), failed(), finish()

    property int pending: 0         // sends not settled yet
    property bool scriptStarted: false
    property bool scriptDone: false // every --say text sent
    property int messageCount: 0    // messages shown (not notices)
    property string lastError: ""
    property var seen: ({})         // what is shown already, by messageKey()
    readonly property bool finished: scriptDone && pending === 0 && messageCount >= expect
    readonly property string connectionError: rpc.errorString || room.errorString
    readonly property string statusText: connectionError ? "error: " + connectionError
        : session.live ? "live · chat-room-service on " + session.instance
        : "looking for chat-room-service in " + registry + "…"

    width: 480
    height: 600
    visible: true
    color: "#ffffff"
    title: "Tomato chat — " + name

    RpcClient { id: rpc; registry: window.registry; stage: window.stage; group: window.group; timeout: 5000 }
    Stub { id: room; client: rpc; service: "Chat::RoomService" }

    // The remote signal: connecting to it subscribes (on every instance the registry lists).
    Connections {
        target: room.events
        function onMessagePosted(message) { window.addMessage(message) }
    }
    Connections {
        target: room
        function onEventsMayHaveBeenMissed(instance, signal) {
            window.addNotice("Reconnected to " + instance + ": messages of the meantime may be missing; history reloaded")
            window.loadHistory()
        }
        function onSubscriptionEnded(instance, signal, code, message) {
            window.addNotice(instance + " ended the subscription (" + code + "): " + message)
            window.lastError = message
        }
    }
    // The typed stub behind `events` says when its subscription is confirmed (main.cpp).
    onConnectionErrorChanged: if (connectionError) console.warn("tomato-chat:", connectionError)
    Component.onCompleted: {
        session.watch(room.events)
        loadHistory()
    }
    Connections {
        target: room
        function onEventsChanged() { window.session.watch(room.events) }
    }
    Connections {
        target: window.session
        function onLiveChanged() {
            if (!window.session.live)
                return
            // Subscribed: nothing posted from now on is missed, and history() covers the rest.
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

    function addNotice(text) {
        messages.append({kind: "notice", number: 0, author: "", text: text, time: "", atMs: 0, mine: false})
    }

    function loadHistory() {
        room.history(50).then(function(list) {
            for (let i = 0; i < list.length; ++i)
                addMessage(list[i])
        }, function(error) {
            lastError = "history: " + error.message
        })
    }

    function post(text) {
        if (!text.trim())
            return Promise.resolve()
        pending++
        return room.send(name, text).then(function(number) {
            lastError = ""
            if (!session.live)
                loadHistory() // no event comes without a subscription: fetch our own message
        }, function(error) {
            lastError = "not sent (" + error.codeName + "): " + error.message
            session.failed(lastError)
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

        ListView {
            id: list
            Layout.fillWidth: true
            Layout.fillHeight: true
            clip: true
            model: messages
            spacing: 6
            topMargin: 12
            bottomMargin: 12
            onCountChanged: Qt.callLater(list.positionViewAtEnd)
            ScrollBar.vertical: ScrollBar {}

            delegate: Item {
                id: row
                required property string kind
                required property string author
                required property string text
                required property string time
                required property bool mine
                width: ListView.view.width
                height: kind === "notice" ? notice.implicitHeight + 8 : bubble.height

                Label {
                    id: notice
                    visible: row.kind === "notice"
                    anchors.horizontalCenter: parent.horizontalCenter
                    y: 4
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
                                color: row.mine ? "#ffe1dd" : "#3559a8"
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
