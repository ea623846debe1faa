use std::time::Instant;
use ser_data::augment::*;
fn main() -> Result<(), Box<dyn std::error::Error>> {
    let a = ser_audio::load_at("/work/shared/data/ravdess-16k/Actor_01/03-01-05-01-01-01-01.wav".as_ref(), 22050)?;
    let x = a.samples;
    println!("{} samples", x.len());
    let pv = PhaseVocoder::new();
    for _ in 0..2 {
        let t = Instant::now(); let y = pv.time_stretch(&x, 1.1)?; println!("stretch {:?} {}", t.elapsed(), y.len());
        let t = Instant::now(); let y = pitch_shift(&pv, &x, 22050, 2.0)?; println!("pitch +2 {:?} {}", t.elapsed(), y.len());
        let t = Instant::now(); let y = pitch_shift(&pv, &x, 22050, -2.0)?; println!("pitch -2 {:?} {}", t.elapsed(), y.len());
        let t = Instant::now(); let y = ser_audio::resample(&x, 19645, 22050)?; println!("resample 19645 {:?} {}", t.elapsed(), y.len());
        let t = Instant::now(); let y = ser_audio::resample(&x, 24750, 22050)?; println!("resample 24750 {:?} {}", t.elapsed(), y.len());
        let t = Instant::now(); let y = ser_audio::load_at("/work/shared/data/ravdess-16k/Actor_01/03-01-05-01-01-01-01.wav".as_ref(), 22050)?; println!("load_at {:?} {}", t.elapsed(), y.samples.len());
    }
    Ok(())
}
