;; Strict scanner for Binance's canonical aggTrade frame (raw or in a combined-stream envelope),
;; over the frame's bytes in linear memory [0, len). It accepts exactly what the JavaScript
;; matcher in binance.normalizer.ts accepts (valid JSON of that one shape) and writes the field
;; positions to OUT; the caller then converts the decimals with `dec` at the instrument's scales.
;; Compiled by scripts/build-wasm.mjs into src/binance-frame.wasm.ts (a drift test recompiles it).
(module
  (memory (export "memory") 2)
  ;; literals at 100000
  (data (i32.const 100000) "{\"stream\":\"")      ;; 11 @100000
  (data (i32.const 100016) "\",\"data\":")         ;;  9 @100016
  (data (i32.const 100032) "{\"e\":\"aggTrade\",\"E\":") ;; 20 @100032
  (data (i32.const 100064) ",\"s\":\"")            ;;  6 @100064
  (data (i32.const 100072) "\",\"a\":")            ;;  6 @100072
  (data (i32.const 100080) ",\"p\":\"")            ;;  6 @100080
  (data (i32.const 100088) "\",\"q\":\"")          ;;  7 @100088
  (data (i32.const 100096) "\",\"f\":")            ;;  6 @100096
  (data (i32.const 100104) ",\"l\":")              ;;  5 @100104
  (data (i32.const 100112) ",\"T\":")              ;;  5 @100112
  (data (i32.const 100120) ",\"m\":")              ;;  5 @100120
  (data (i32.const 100128) ",\"M\":")              ;;  5 @100128
  (data (i32.const 100136) "true")                 ;;  4 @100136
  (data (i32.const 100144) "false")                ;;  5 @100144

  ;; p + n when the n bytes at `lit` stand at p (within len), else -1. Compares 8 bytes at a time
  ;; (unaligned i64 loads; bytes past the literal are masked out).
  (func $lit (param $p i32) (param $lit i32) (param $n i32) (param $len i32) (result i32)
    (local $k i32) (local $rest i32)
    (if (i32.lt_s (local.get $p) (i32.const 0)) (then (return (i32.const -1))))
    (if (i32.gt_s (i32.add (local.get $p) (local.get $n)) (local.get $len)) (then (return (i32.const -1))))
    (block $done
      (loop $next
        (local.set $rest (i32.sub (local.get $n) (local.get $k)))
        (br_if $done (i32.le_s (local.get $rest) (i32.const 0)))
        (if (i32.ge_s (local.get $rest) (i32.const 8))
          (then
            (if (i64.ne (i64.load (i32.add (local.get $p) (local.get $k))) (i64.load (i32.add (local.get $lit) (local.get $k))))
              (then (return (i32.const -1)))))
          (else
            (if (i64.ne (i64.const 0)
                  (i64.and
                    (i64.xor (i64.load (i32.add (local.get $p) (local.get $k))) (i64.load (i32.add (local.get $lit) (local.get $k))))
                    (i64.sub (i64.shl (i64.const 1) (i64.extend_i32_u (i32.shl (local.get $rest) (i32.const 3)))) (i64.const 1))))
              (then (return (i32.const -1))))))
        (local.set $k (i32.add (local.get $k) (i32.const 8)))
        (br $next)))
    (i32.add (local.get $p) (local.get $n)))

  ;; end of a JSON non-negative integer at p: no leading zero, 1..15 digits; else -1
  (func $int (param $p i32) (param $len i32) (result i32)
    (local $i i32)
    (if (i32.lt_s (local.get $p) (i32.const 0)) (then (return (i32.const -1))))
    (if (i32.ge_s (local.get $p) (local.get $len)) (then (return (i32.const -1))))
    (if (i32.eqz (i32.lt_u (i32.sub (i32.load8_u (local.get $p)) (i32.const 48)) (i32.const 10))) (then (return (i32.const -1))))
    (if (i32.eq (i32.load8_u (local.get $p)) (i32.const 48))
      (then
        (if (i32.lt_s (i32.add (local.get $p) (i32.const 1)) (local.get $len))
          (then (if (i32.lt_u (i32.sub (i32.load8_u (i32.add (local.get $p) (i32.const 1))) (i32.const 48)) (i32.const 10)) (then (return (i32.const -1))))))
        (return (i32.add (local.get $p) (i32.const 1)))))
    (local.set $i (local.get $p))
    (block $done
      (loop $next
        (br_if $done (i32.ge_s (local.get $i) (local.get $len)))
        (br_if $done (i32.eqz (i32.lt_u (i32.sub (i32.load8_u (local.get $i)) (i32.const 48)) (i32.const 10))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next)))
    (if (i32.gt_s (i32.sub (local.get $i) (local.get $p)) (i32.const 15)) (then (return (i32.const -1))))
    (local.get $i))

  ;; index of the quote closing a name of [A-Za-z0-9_-] (and @ . for stream names when $stream)
  (func $name (param $p i32) (param $len i32) (param $stream i32) (result i32)
    (local $i i32) (local $c i32) (local $ok i32)
    (if (i32.lt_s (local.get $p) (i32.const 0)) (then (return (i32.const -1))))
    (local.set $i (local.get $p))
    (block $done
      (loop $next
        (br_if $done (i32.ge_s (local.get $i) (local.get $len)))
        (local.set $c (i32.load8_u (local.get $i)))
        (local.set $ok
          (i32.or
            (i32.or
              (i32.lt_u (i32.sub (i32.or (local.get $c) (i32.const 32)) (i32.const 97)) (i32.const 26))
              (i32.lt_u (i32.sub (local.get $c) (i32.const 48)) (i32.const 10)))
            (i32.or
              (i32.or (i32.eq (local.get $c) (i32.const 95)) (i32.eq (local.get $c) (i32.const 45)))
              (i32.and (local.get $stream) (i32.or (i32.eq (local.get $c) (i32.const 64)) (i32.eq (local.get $c) (i32.const 46)))))))
        (br_if $done (i32.eqz (local.get $ok)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next)))
    (if (i32.eq (local.get $i) (local.get $p)) (then (return (i32.const -1))))
    (if (i32.ge_s (local.get $i) (local.get $len)) (then (return (i32.const -1))))
    (if (i32.ne (i32.load8_u (local.get $i)) (i32.const 34)) (then (return (i32.const -1))))
    (local.get $i))

  ;; index of the quote closing a string of [0-9.] (at least one byte), else -1
  (func $decEnd (param $p i32) (param $len i32) (result i32)
    (local $i i32) (local $c i32)
    (if (i32.lt_s (local.get $p) (i32.const 0)) (then (return (i32.const -1))))
    (local.set $i (local.get $p))
    (block $done
      (loop $next
        (br_if $done (i32.ge_s (local.get $i) (local.get $len)))
        (local.set $c (i32.load8_u (local.get $i)))
        (br_if $done (i32.and (i32.eqz (i32.lt_u (i32.sub (local.get $c) (i32.const 48)) (i32.const 10))) (i32.ne (local.get $c) (i32.const 46))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next)))
    (if (i32.eq (local.get $i) (local.get $p)) (then (return (i32.const -1))))
    (if (i32.ge_s (local.get $i) (local.get $len)) (then (return (i32.const -1))))
    (if (i32.ne (i32.load8_u (local.get $i)) (i32.const 34)) (then (return (i32.const -1))))
    (local.get $i))

  ;; after true/false at p: the index past it, with the flag in $flag; else -1
  (global $flag (mut i32) (i32.const 0))
  (func $bool (param $p i32) (param $len i32) (result i32)
    (local $q i32)
    (local.set $q (call $lit (local.get $p) (i32.const 100136) (i32.const 4) (local.get $len)))
    (if (i32.ge_s (local.get $q) (i32.const 0)) (then (global.set $flag (i32.const 1)) (return (local.get $q))))
    (global.set $flag (i32.const 0))
    (call $lit (local.get $p) (i32.const 100144) (i32.const 5) (local.get $len)))

  ;; exact units of the decimal in [start, end) at `scale` decimals, as f64 (an integer below
  ;; 2^53); -1 when it is not a plain decimal, has more significant decimals or is too large
  (func (export "dec") (param $start i32) (param $end i32) (param $scale i32) (result f64)
    (local $i i32) (local $c i32) (local $v i64) (local $digits i32) (local $frac i32) (local $dot i32)
    (local.set $i (local.get $start))
    (block $done
      (loop $next
        (br_if $done (i32.ge_s (local.get $i) (local.get $end)))
        (local.set $c (i32.load8_u (local.get $i)))
        (if (i32.eq (local.get $c) (i32.const 46))
          (then
            (if (local.get $dot) (then (return (f64.const -1))))
            (local.set $dot (i32.const 1)))
          (else
            (if (i32.eqz (i32.lt_u (i32.sub (local.get $c) (i32.const 48)) (i32.const 10))) (then (return (f64.const -1))))
            (local.set $digits (i32.add (local.get $digits) (i32.const 1)))
            (if (local.get $dot)
              (then
                (if (i32.lt_s (local.get $frac) (local.get $scale))
                  (then
                    (local.set $v (i64.add (i64.mul (local.get $v) (i64.const 10)) (i64.extend_i32_u (i32.sub (local.get $c) (i32.const 48)))))
                    (local.set $frac (i32.add (local.get $frac) (i32.const 1))))
                  (else (if (i32.ne (local.get $c) (i32.const 48)) (then (return (f64.const -1)))))))
              (else
                (local.set $v (i64.add (i64.mul (local.get $v) (i64.const 10)) (i64.extend_i32_u (i32.sub (local.get $c) (i32.const 48)))))))
            ;; beyond 2^53 (checked on every digit so that i64 never wraps)
            (if (i64.gt_u (local.get $v) (i64.const 9007199254740991)) (then (return (f64.const -1))))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next)))
    (if (i32.eqz (local.get $digits)) (then (return (f64.const -1))))
    (block $scaled
      (loop $more
        (br_if $scaled (i32.ge_s (local.get $frac) (local.get $scale)))
        (local.set $v (i64.mul (local.get $v) (i64.const 10)))
        (if (i64.gt_u (local.get $v) (i64.const 9007199254740991)) (then (return (f64.const -1))))
        (local.set $frac (i32.add (local.get $frac) (i32.const 1)))
        (br $more)))
    (f64.convert_i64_u (local.get $v)))

  ;; value of the digits in [start, end) (a checked JSON integer of at most 15 digits)
  (func $intval (param $start i32) (param $end i32) (result f64)
    (local $v i64) (local $i i32)
    (local.set $i (local.get $start))
    (block $done
      (loop $next
        (br_if $done (i32.ge_s (local.get $i) (local.get $end)))
        (local.set $v (i64.add (i64.mul (local.get $v) (i64.const 10)) (i64.extend_i32_u (i32.sub (i32.load8_u (local.get $i)) (i32.const 48)))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next)))
    (f64.convert_i64_u (local.get $v)))

  ;; 1 when [0, len) is a canonical frame; then OUT (i32 at 65536..) holds, in order:
  ;; symStart symEnd aStart aEnd pStart pEnd qStart qEnd fStart fEnd lStart lEnd buyerIsMaker,
  ;; and the trade time (f64) at 65600.
  (func (export "scan") (param $len i32) (result i32)
    (local $p i32) (local $env i32)
    (local $symStart i32) (local $symEnd i32) (local $aStart i32) (local $aEnd i32)
    (local $pStart i32) (local $pEnd i32) (local $qStart i32) (local $qEnd i32)
    (local $fStart i32) (local $fEnd i32) (local $lStart i32) (local $lEnd i32)
    (local $tStart i32) (local $tEnd i32) (local $m i32)
    (local.set $p (call $lit (i32.const 0) (i32.const 100000) (i32.const 11) (local.get $len)))
    (if (i32.ge_s (local.get $p) (i32.const 0))
      (then
        (local.set $env (i32.const 1))
        (local.set $p (call $lit (call $name (local.get $p) (local.get $len) (i32.const 1)) (i32.const 100016) (i32.const 9) (local.get $len))))
      (else (local.set $p (i32.const 0))))
    (local.set $p (call $int (call $lit (local.get $p) (i32.const 100032) (i32.const 20) (local.get $len)) (local.get $len)))
    (local.set $symStart (call $lit (local.get $p) (i32.const 100064) (i32.const 6) (local.get $len)))
    (local.set $symEnd (call $name (local.get $symStart) (local.get $len) (i32.const 0)))
    (local.set $aStart (call $lit (local.get $symEnd) (i32.const 100072) (i32.const 6) (local.get $len)))
    (local.set $aEnd (call $int (local.get $aStart) (local.get $len)))
    (local.set $pStart (call $lit (local.get $aEnd) (i32.const 100080) (i32.const 6) (local.get $len)))
    (local.set $pEnd (call $decEnd (local.get $pStart) (local.get $len)))
    (local.set $qStart (call $lit (local.get $pEnd) (i32.const 100088) (i32.const 7) (local.get $len)))
    (local.set $qEnd (call $decEnd (local.get $qStart) (local.get $len)))
    (local.set $fStart (call $lit (local.get $qEnd) (i32.const 100096) (i32.const 6) (local.get $len)))
    (local.set $fEnd (call $int (local.get $fStart) (local.get $len)))
    (local.set $lStart (call $lit (local.get $fEnd) (i32.const 100104) (i32.const 5) (local.get $len)))
    (local.set $lEnd (call $int (local.get $lStart) (local.get $len)))
    (local.set $tStart (call $lit (local.get $lEnd) (i32.const 100112) (i32.const 5) (local.get $len)))
    (local.set $tEnd (call $int (local.get $tStart) (local.get $len)))
    (local.set $p (call $bool (call $lit (local.get $tEnd) (i32.const 100120) (i32.const 5) (local.get $len)) (local.get $len)))
    (local.set $m (global.get $flag))
    (if (i32.lt_s (local.get $p) (i32.const 0)) (then (return (i32.const 0))))
    (if (i32.and (i32.lt_s (local.get $p) (local.get $len)) (i32.eq (i32.load8_u (local.get $p)) (i32.const 44)))
      (then (local.set $p (call $bool (call $lit (local.get $p) (i32.const 100128) (i32.const 5) (local.get $len)) (local.get $len)))))
    (if (i32.lt_s (local.get $p) (i32.const 0)) (then (return (i32.const 0))))
    (if (i32.ge_s (local.get $p) (local.get $len)) (then (return (i32.const 0))))
    (if (i32.ne (i32.load8_u (local.get $p)) (i32.const 125)) (then (return (i32.const 0))))
    (local.set $p (i32.add (local.get $p) (i32.const 1)))
    (if (local.get $env)
      (then
        (if (i32.ge_s (local.get $p) (local.get $len)) (then (return (i32.const 0))))
        (if (i32.ne (i32.load8_u (local.get $p)) (i32.const 125)) (then (return (i32.const 0))))
        (local.set $p (i32.add (local.get $p) (i32.const 1)))))
    (if (i32.ne (local.get $p) (local.get $len)) (then (return (i32.const 0))))
    (i32.store (i32.const 65536) (local.get $symStart))
    (i32.store (i32.const 65540) (local.get $symEnd))
    (i32.store (i32.const 65544) (local.get $aStart))
    (i32.store (i32.const 65548) (local.get $aEnd))
    (i32.store (i32.const 65552) (local.get $pStart))
    (i32.store (i32.const 65556) (local.get $pEnd))
    (i32.store (i32.const 65560) (local.get $qStart))
    (i32.store (i32.const 65564) (local.get $qEnd))
    (i32.store (i32.const 65568) (local.get $fStart))
    (i32.store (i32.const 65572) (local.get $fEnd))
    (i32.store (i32.const 65576) (local.get $lStart))
    (i32.store (i32.const 65580) (local.get $lEnd))
    (i32.store (i32.const 65584) (local.get $m))
    (f64.store (i32.const 65600) (call $intval (local.get $tStart) (local.get $tEnd)))
    (i32.const 1))
)
