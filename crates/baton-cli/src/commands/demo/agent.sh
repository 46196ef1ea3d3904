#!/bin/sh
# The scripted agent of `baton demo`. The runner starts it in the task's own worktree with
# the prompt on standard input and BATON_AGENT set, as it would start Claude Code or Codex;
# it does what such an agent does, through the same `baton` commands, slowly enough to
# watch: it takes notes, reserves what it reads, asks when the task says to, answers
# questions put to it (staying until it has, when its task is one others ask about), and
# commits the task's files one by one.
set -eu
prompt=$(cat)
# The runner names the task in every run's resource attributes (baton.task=T-n), a retry's
# too, whose prompt is shorter.
task=$(printf '%s\n' "${OTEL_RESOURCE_ATTRIBUTES:-}" | tr ',' '\n' | sed -n 's/^baton\.task=//p')
[ -n "$task" ] || task=$(printf '%s\n' "$prompt" | grep -o 'T-[0-9]*' | head -n 1)
step=${BATON_DEMO_STEP:-3}
work="$BATON_DEMO_WORK/$task"

note() { baton task note "$task" "$1" >/dev/null; }

# Questions other agents put to this one about a task it holds or held, answered from what
# that task's agent knows ($BATON_DEMO_WORK/T-n.reply); a real agent would read its code.
answer_questions() {
    baton inbox --json | tr '{' '\n' | grep '"reply_to":null' |
        sed -n 's/.*"id":"\(M-[0-9]*\)".*"task":"\(T-[0-9]*\)".*/\1 \2/p' |
        while read -r id about; do
            [ -f "$BATON_DEMO_WORK/$about.reply" ] || continue
            baton answer "$id" "$(cat "$BATON_DEMO_WORK/$about.reply")" >/dev/null
            touch "$BATON_DEMO_WORK/$about.answered"
            echo "answered $id about $about"
        done
}

pause() {
    sleep "$step"
    answer_questions
}

echo "$BATON_AGENT works on $task"
note "Reading the task and the code it touches"
baton reserve /README.md --shared --reason "reading the service overview" >/dev/null
pause

answer=""
ask=$(printf '%s\n' "$prompt" | sed -n 's/^Ask \([^:]*\): \(.*\)$/\1|\2/p' | head -n 1)
if [ -n "$ask" ]; then
    to=${ask%%|*}
    question=${ask#*|}
    note "Asked $to: $question"
    # Printed as "<who> answered M-n:" and the answer on the next line.
    if said=$(baton ask --to "$to" "$question" --wait "$BATON_DEMO_WAIT" --human); then
        answer=$(printf '%s\n' "$said" | sed -n 2p)
        note "Got the answer: $answer"
    else
        answer="(no answer in time; went with the simplest choice)"
        note "$answer"
    fi
    pause
fi
escaped=$(printf '%s' "$answer" | sed 's/[|&\\]/\\&/g')

for file in $(cd "$work" && find . -type f | sort); do
    file=${file#./}
    mkdir -p "$(dirname "$file")"
    sed "s|{{answer}}|$escaped|g" "$work/$file" >"$file"
    git add "$file"
    git -c user.name="$BATON_AGENT" -c user.email="$BATON_AGENT@agents.invalid" \
        commit -qm "$task: write $file"
    note "Committed $file"
    pause
done

# Others will ask about this task (its agent knows the answer): stay until the question has
# come and been answered, at most as long as an asker waits. An agent that left would answer
# only once the runner gave it another task, which may be after the asker gave up.
if [ -f "$BATON_DEMO_WORK/$task.reply" ]; then
    until_s=$(($(date +%s) + ${BATON_DEMO_WAIT%s}))
    while [ ! -f "$BATON_DEMO_WORK/$task.answered" ] && [ "$(date +%s)" -lt "$until_s" ]; do
        pause
    done
fi

baton release /README.md >/dev/null
echo "Finished $task: wrote $(cd "$work" && find . -type f | wc -l | tr -d ' ') file(s), one commit each"
